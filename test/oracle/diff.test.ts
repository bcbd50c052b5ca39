import { describe, expect, it } from 'vitest';
import type { StepResult } from '../../src/ops/result.js';
import { compareScenario } from '../../src/oracle/diff.js';
import { kernelProfile } from '../../src/oracle/kernels.js';
import type { KnownDifference } from '../../src/oracle/known.js';
import { modelScenario, planScenario } from '../../src/oracle/plan.js';
import type { OracleScenarioRun } from '../../src/oracle/protocol.js';
import { runScenario } from '../../src/scenario/run.js';
import { scenario } from './helpers.js';

const debian = kernelProfile('7.3.4')!;
const yaml = `
steps:
  - {op: KVM_CREATE_VM, as: vm}
  - {op: KVM_CREATE_GUEST_MEMFD, vm: vm, size: 0x4000, flags: [GUEST_MEMFD_FLAG_MMAP, GUEST_MEMFD_FLAG_INIT_SHARED], as: gmem}
  - {op: mmap, length: 0x4000, prot: [PROT_READ, PROT_WRITE], flags: MAP_SHARED, fd: gmem, as: mem}
  - {op: store, addr: mem+0x1000, value: 0x41}
  - {op: madvise, addr: mem+0x1000, length: 0x1000, advice: MADV_HWPOISON}
  - {op: KVM_CREATE_VM, type: KVM_X86_SW_PROTECTED_VM}
`;

/** What a kernel would print for the steps the oracle runs, derived from the model's run at other addresses. */
function kernelRun(results: readonly StepResult[], edit?: (r: StepResult) => StepResult): OracleScenarioRun {
  const moved = results.slice(0, 5).map((r) => {
    const shift = (v: number) => v - 0x7effffffc000 + 0x7dffffffc000;
    const text = (l: string) => l.replace(/0x100000/g, '0x27c6').replace(/7eff/g, '7dff');
    const out: StepResult = { ...r, ...(r.op === 'mmap' ? { ret: shift(r.ret as number) } : {}) };
    if (r.signal) out.signal = { ...r.signal, addr: shift(r.signal.addr) };
    if (r.dmesg) out.dmesg = r.dmesg.map(text);
    return edit ? edit(out) : out;
  });
  return {
    id: 0,
    file: 'x.yaml',
    name: 'x',
    races: [],
    results: moved,
    modelOnly: { step: 5, op: 'KVM_CREATE_VM', reason: 'needs SW_PROTECTED' },
  };
}

describe('model versus kernel comparison', () => {
  const plan = planScenario(scenario(yaml, 'test/oracle/x.yaml'), debian);
  const model = runScenario(modelScenario(plan), { options: plan.modelOptions });
  const ctx = { kernel: '7.3.4', known: [] };

  it('finds nothing when the kernel differs only in addresses, pfns and pids', () => {
    const c = compareScenario(plan, model, kernelRun(model.results), ctx);
    expect(c.differences).toEqual([]);
    expect(c.status).toBe('identical');
    expect(c.compared).toBe(5);
    expect(c.modelOnly?.step).toBe(5);
  });

  it('prints a real difference field by field', () => {
    const c = compareScenario(
      plan,
      model,
      kernelRun(model.results, (r) => (r.op === 'madvise' ? { ...r, errno: 'EIO', signal: undefined } : r)),
      ctx,
    );
    expect(c.status).toBe('different');
    expect(c.differences).toHaveLength(1);
    expect(c.differences[0].step).toBe(4);
    expect(c.differences[0].fields.map((f) => f.field)).toEqual(['errno', 'signal']);
    expect(c.differences[0].fields[0]).toEqual({ field: 'errno', model: 'EBUSY', kernel: 'EIO' });
  });

  it('notices a signal address that points elsewhere in the mapping', () => {
    const c = compareScenario(
      plan,
      model,
      kernelRun(model.results, (r) => (r.signal ? { ...r, signal: { ...r.signal, addr: r.signal.addr + 8 } } : r)),
      ctx,
    );
    expect(c.differences[0].fields).toEqual([{ field: 'signal.addr', model: '<mem+0x1000>', kernel: '<mem+0x1008>' }]);
  });

  it('marks a difference listed in known-differences.yaml as known, with its reason', () => {
    const known: KnownDifference = {
      kernel: '7.3.4',
      file: 'test/oracle/x.yaml',
      step: 4,
      fields: ['errno', 'signal'],
      reason: 'because',
      evidence: 'measured',
      fix: 'fix it',
    };
    const run = kernelRun(model.results, (r) => (r.op === 'madvise' ? { ...r, errno: 'EIO', signal: undefined } : r));
    const c = compareScenario(plan, model, run, { kernel: '7.3.4', known: [known] });
    expect(c.status).toBe('known');
    expect(c.differences[0].known).toBe(known);
    const other = compareScenario(plan, model, run, { kernel: '6.18.15', known: [known] });
    expect(other.status).toBe('different');
  });

  it('reports a step the kernel never ran as a difference, not as a match', () => {
    const run = kernelRun(model.results);
    const c = compareScenario(plan, model, { ...run, results: run.results.slice(0, 3), modelOnly: undefined }, ctx);
    expect(c.status).toBe('different');
    expect(c.differences.map((d) => d.step)).toEqual([3, 4, 5]);
  });
});
