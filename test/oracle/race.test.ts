import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernelProfile } from '../../src/oracle/kernels.js';
import { parseRunnerOutput } from '../../src/oracle/protocol.js';
import { planRace, raceInput, raceOutcome } from '../../src/oracle/race.js';
import { loadScenario } from '../../src/scenario/load.js';

const debian = kernelProfile('7.3.4')!;
const file = 'oracle/race/guest-read-vs-punch.yaml';
const race = planRace(loadScenario(file, readFileSync(file, 'utf8')), debian, 3);

describe('race mode', () => {
  it('compiles every thread and `after`, labels resolved from the steps before them', () => {
    expect(race.modelOnly).toBeUndefined();
    expect(race.threads.map((t) => t.name)).toEqual(['vcpu', 'vmm']);
    expect(race.threads[0].steps[0].args.vcpu).toEqual({ label: 'vcpu', add: '0x0' });
    const input = JSON.parse(raceInput([race]));
    expect(input.scenarios[0].race).toEqual({ runs: 3 });
    expect(input.scenarios[0].after[0].op).toBe('load');
  });

  it('refuses a race with a step the kernel cannot run', () => {
    const s = loadScenario(
      'x.yaml',
      'steps: [{op: KVM_CREATE_VM, type: KVM_X86_SW_PROTECTED_VM, as: vm}]\nthreads: {a: [{op: close, fd: vm}]}',
    );
    expect(planRace(s, debian, 3).modelOnly).toMatch(/SW_PROTECTED/);
  });

  it('turns each run into an outcome: what every thread saw', () => {
    const lines = [
      '{"oracle":"meta","kernel":"k","kvm":true,"maxphyaddr":40,"uptime_ms":1}',
      '{"oracle":"begin","scenario":0,"file":"f","name":"n"}',
      ...[0x5a, 0].flatMap((v, run) => [
        `{"oracle":"race_run","scenario":0,"run":${run}}`,
        '{"step":2,"op":"mmap","ret":137438953472,"errno":null}',
        `{"step":0,"op":"KVM_RUN","thread":"vcpu","ret":0,"errno":null,"values":[${v}],"exit_reason":"KVM_EXIT_HLT"}`,
        '{"step":0,"op":"fallocate","thread":"vmm","ret":0,"errno":null}',
        '{"step":0,"op":"load","thread":"after","ret":0,"errno":null,"value":0}',
        '{"oracle":"race_end","scenario":0,"status":"exit 0"}',
      ]),
      '{"oracle":"end","scenario":0,"status":"race done"}',
      '{"oracle":"done","uptime_ms":2}',
    ];
    const run = parseRunnerOutput(lines.join('\n'));
    const s = run.scenarios[0];
    expect(s.races).toHaveLength(2);
    expect(s.results).toEqual([]);
    expect(raceOutcome(race, s.races[0])).toEqual({
      vcpu: ['KVM_RUN ret=0 values=[0x5a]'],
      vmm: ['fallocate ret=0'],
      after: ['load ret=0'],
    });
    expect(raceOutcome(race, s.races[1]).vcpu).toEqual(['KVM_RUN ret=0 values=[0x0]']);
  });
});
