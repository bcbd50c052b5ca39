// The C runner itself, built with gcc and run on this machine for ops that need no /dev/kvm (files, memory,
// signals): its JSON parser, its output, its fd and address discipline, compared with the model like a real run.
// (memfd file operations as the host runs them: oracle/regressions/memfd-file-ops.yaml.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareScenario } from '../../src/oracle/diff.js';
import { kernelProfile } from '../../src/oracle/kernels.js';
import { cacheLayout } from '../../src/oracle/paths.js';
import { modelScenario, planScenario, runnerInput } from '../../src/oracle/plan.js';
import { prepareRunner } from '../../src/oracle/prepare.js';
import { parseRunnerOutput } from '../../src/oracle/protocol.js';
import { runScenario } from '../../src/scenario/run.js';
import { announceSkip, runnerUnavailable, scenario } from './helpers.js';

const why = runnerUnavailable();
announceSkip('the host runner tests', why);

const hostScenario = scenario(
  `
name: "files and memory, no KVM: é ☃ \\"quoted\\""
steps:
  - {op: memfd_create, name: "gmemsim ☃", as: mfd, expect: {ret: 3}}
  - {op: ftruncate, fd: mfd, length: 0x2000, expect: {ret: 0}}
  - {op: mmap, length: 0x3000, prot: [PROT_READ, PROT_WRITE], flags: MAP_SHARED, fd: mfd, as: mem}
  - {op: store, addr: mem+0x1008, value: 0x1122334455667788, size: 8}
  - {op: load, addr: mem+0x100c, size: 4, expect: {value: 0x11223344}}
  - {op: memset, addr: mem, value: 0x5a, length: 0x3000, expect: {ret: -1, signal: {signo: SIGBUS, code: BUS_ADRERR, addr: mem+0x2000}}}
  - {op: load, addr: mem+0x1fff, expect: {value: 0x5a}}
  - {op: load, addr: mem+0x4000, expect: {ret: -1, signal: {signo: SIGSEGV}}}
  - {op: madvise, addr: mem, length: 0x1000, advice: MADV_DONTNEED, expect: {ret: 0}}
  - {op: load, addr: mem, expect: {value: 0x5a}}
  - {op: dup, fd: mfd, as: copy, expect: {ret: 4}}
  - {op: close, fd: mfd, expect: {ret: 0}}
  - {op: close, fd: mfd, expect: {ret: -1, errno: EBADF}}
  - {op: fstat, fd: 1000, expect: {ret: -1, errno: EBADF}}
  - {op: munmap, addr: mem, length: 0x3000, expect: {ret: 0}}
  - {op: corrupt_frame, fd: copy, offset: 0}
  - {op: close, fd: copy}
`,
  'test/oracle/host.yaml',
);

describe.skipIf(why !== undefined)('the runner on this host', () => {
  let runner = '';
  beforeAll(async () => {
    runner = await prepareRunner(cacheLayout(), () => {});
  }, 120_000);

  function run(input: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'gmemsim-runner-'));
    writeFileSync(join(dir, 'input.json'), input);
    return spawnSync(runner, [join(dir, 'input.json')], { encoding: 'utf8' }).stdout;
  }

  it('runs the ops with real syscalls, as the model runs them, and stops at a model-only step', () => {
    const plan = planScenario(hostScenario, kernelProfile('7.3.4')!);
    const out = parseRunnerOutput(run(runnerInput([{ ...plan, stop: undefined }])));
    expect(out.complete).toBe(true);
    const kernel = out.scenarios[0];
    expect(kernel.name).toBe(hostScenario.name);
    expect(kernel.modelOnly).toMatchObject({ step: 15, op: 'corrupt_frame' });
    const model = runScenario(modelScenario(plan), { options: plan.modelOptions });
    const c = compareScenario({ ...plan, stop: { step: 15, reason: 'corrupt_frame' } }, model, kernel, {
      kernel: '7.3.4',
      known: [],
    });
    expect(c.differences).toEqual([]);
    expect(c.compared).toBe(15);
  });

  it('refuses malformed input with a framing line, not a crash', () => {
    expect(run('{"format":"gmemsim-oracle-input/1","scenarios":[{"id":0,')).toMatch(/"oracle":"error"/);
    expect(run('{"format":"other"}')).toMatch(/not gmemsim-oracle-input\/1/);
  });
});
