// A scenario prepared for exploration: its setup `steps` run once, sequentially; the kernel state after them is
// the snapshot every execution starts from, with one task per scenario thread already created.
import { GmemsimError } from '../diagnostics/errors.js';
import type { Ctx } from '../kernel/core/sched.js';
import { addThread, createKernel, createProcess, type Kernel } from '../kernel/machine.js';
import type { KernelOptions } from '../kernel/options.js';
import type { StepResult } from '../ops/result.js';
import { execStep, resolveArgs } from '../ops/step.js';
import { compareExpect, type Mismatch } from '../scenario/expect.js';
import type { Scenario, StepSpec } from '../scenario/load.js';
import { Tracer } from '../trace/tracer.js';
import { runAlone } from './sequential.js';

export interface ProgramThread {
  readonly name: string;
  readonly tid: number;
  readonly steps: readonly StepSpec[];
}

export interface Program {
  readonly scenario: Scenario;
  readonly options: KernelOptions;
  /** state after the setup steps; never mutated (executions clone it) */
  readonly snapshot: Kernel;
  readonly labels: ReadonlyMap<string, bigint>;
  readonly setupResults: readonly StepResult[];
  readonly setupMismatches: ReadonlyArray<Mismatch & { step: number }>;
  readonly threads: readonly ProgramThread[];
  readonly mainTid: number;
}

export function prepareProgram(s: Scenario, overrides: Partial<KernelOptions> = {}): Program {
  if (s.threads.size === 0) {
    throw new GmemsimError({
      code: 'GMEM1016',
      message: `${s.file}: nothing to explore: the scenario has no \`threads\``,
      hint: 'add `threads: {NAME: [steps...]}`, or use `gmemsim run` for a sequential scenario',
    });
  }
  const k = createKernel({ ...s.options, ...overrides });
  const proc = createProcess(k, 'vmm');
  const ctx: Ctx = { k, task: proc.threads[0], tr: new Tracer(false) };
  const labels = new Map<string, bigint>();
  const setupResults: StepResult[] = [];
  const setupMismatches: Array<Mismatch & { step: number }> = [];
  for (const spec of s.steps) {
    const r = runAlone(k, execStep(ctx, spec.op, resolveArgs(spec.op, spec.raw, labels), spec.index));
    setupResults.push(r);
    if (spec.as !== undefined) labels.set(spec.as, BigInt(r.ret));
    if (spec.expect)
      for (const m of compareExpect(spec.expect, r, labels)) setupMismatches.push({ ...m, step: spec.index });
    if (r.panic || proc.killed) {
      throw new GmemsimError({
        code: 'GMEM1017',
        message: `${s.file}: setup step ${spec.index} (${spec.op.name}) ${r.panic ? `panicked: ${r.panic}` : 'killed the VMM'}`,
      });
    }
  }
  const threads: ProgramThread[] = [...s.threads].map(([name, steps]) => ({
    name,
    tid: addThread(proc, name).tid,
    steps,
  }));
  return {
    scenario: s,
    options: k.opts,
    snapshot: k,
    labels,
    setupResults,
    setupMismatches,
    threads,
    mainTid: proc.threads[0].tid,
  };
}
