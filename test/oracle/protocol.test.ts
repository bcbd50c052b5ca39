import { describe, expect, it } from 'vitest';
import { checkRun, parseRunnerOutput } from '../../src/oracle/protocol.js';

const meta =
  '{"oracle":"meta","format":"gmemsim-oracle/1","kernel":"7.3.4+deb13-amd64","kvm":true,"maxphyaddr":40,"uptime_ms":3900}';

describe('runner output', () => {
  it('groups step lines under their scenario and keeps the framing', () => {
    const run = parseRunnerOutput(
      [
        meta,
        '{"oracle":"begin","scenario":0,"file":"a.yaml","name":"a"}',
        '{"step":0,"op":"KVM_CREATE_VM","ret":4,"errno":null}\r',
        'garbage from the serial line',
        '{"oracle":"model_only","scenario":0,"step":1,"op":"corrupt_frame","reason":"no interface"}',
        '{"oracle":"end","scenario":0,"status":"exit 0"}',
        '{"oracle":"begin","scenario":2,"file":"c.yaml","name":"c"}',
        '{"step":0,"op":"memory_failure","ret":-1,"errno":null}',
        '{"oracle":"killed","scenario":2,"step":0,"op":"memory_failure","status":"killed by SIGKILL"}',
        '{"oracle":"end","scenario":2,"status":"killed by SIGKILL"}',
        '{"oracle":"done","uptime_ms":4100}',
      ].join('\n'),
    );
    expect(run.complete).toBe(true);
    expect(run.doneUptimeMs).toBe(4100);
    expect(run.scenarios.map((s) => s.id)).toEqual([0, 2]);
    expect(run.scenarios[0].results).toEqual([{ step: 0, op: 'KVM_CREATE_VM', ret: 4, errno: null }]);
    expect(run.scenarios[0].modelOnly).toEqual({ step: 1, op: 'corrupt_frame', reason: 'no interface' });
    expect(run.scenarios[1].killed?.status).toBe('killed by SIGKILL');
    expect(() => checkRun(run, '')).not.toThrow();
  });

  it('refuses a run that did not finish, with the console tail as the hint', () => {
    const run = parseRunnerOutput(`${meta}\n{"oracle":"begin","scenario":0,"file":"a","name":"a"}\n`);
    expect(() => checkRun(run, 'Kernel panic')).toThrow(/did not complete/);
  });

  it('reports a kernel without /dev/kvm as the oracle being unavailable', () => {
    const run = parseRunnerOutput(meta.replace('"kvm":true', '"kvm":false'));
    expect(() => checkRun(run, '')).toThrow(expect.objectContaining({ code: 'GMEM5101' }));
  });

  it('passes on what the runner itself reported as an error', () => {
    const run = parseRunnerOutput('{"oracle":"error","message":"input format is not gmemsim-oracle-input/1"}');
    expect(() => checkRun(run, '')).toThrow(/input format/);
  });
});
