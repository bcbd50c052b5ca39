// Runs a scenario's steps one after another on a fresh model, checking each step's expectations.
import type { SourceLocation } from '../diagnostics/errors.js';
import { GmemsimError } from '../diagnostics/errors.js';
import { runAlone } from '../engine/sequential.js';
import type { Ctx } from '../kernel/core/sched.js';
import { createKernel, createProcess, type Kernel } from '../kernel/machine.js';
import type { KernelOptions } from '../kernel/options.js';
import type { Task } from '../kernel/task/task.js';
import type { StepResult } from '../ops/result.js';
import { execStep, resolveArgs } from '../ops/step.js';
import { Tracer } from '../trace/tracer.js';
import { compareExpect, type Mismatch } from './expect.js';
import type { Scenario, StepSpec } from './load.js';

export interface StepMismatch extends Mismatch {
  readonly step: number;
  readonly op: string;
  readonly loc: SourceLocation;
}

export interface RunOutcome {
  readonly scenario: Scenario;
  readonly options: KernelOptions;
  readonly results: StepResult[];
  readonly mismatches: StepMismatch[];
  /** why the run stopped early (panic, the process was killed), if it did */
  readonly stopped?: string;
  readonly kernel: Kernel;
  readonly trace: Tracer;
}

export interface RunOptions {
  /** overrides the scenario's own options */
  readonly options?: Partial<KernelOptions>;
  readonly trace?: boolean;
  /** builds the tracer for the run's kernel (overrides `trace`), e.g. one that snapshots state per event */
  readonly tracer?: (k: Kernel) => Tracer;
  /** called after each step, e.g. to stream --json lines */
  readonly onStep?: (r: StepResult, spec: StepSpec) => void;
}

/** Runs `steps` (and rejects threads, which need the explorer). */
export function runScenario(s: Scenario, ro: RunOptions = {}): RunOutcome {
  if (s.threads.size > 0) {
    throw new GmemsimError({
      code: 'GMEM3001',
      message: `${s.file}: this scenario has threads; run it with \`gmemsim explore\`, which covers their interleavings`,
    });
  }
  const k = createKernel({ ...s.options, ...ro.options });
  const proc = createProcess(k, 'vmm');
  const tr = ro.tracer ? ro.tracer(k) : new Tracer(ro.trace ?? false);
  const results: StepResult[] = [];
  const mismatches: StepMismatch[] = [];
  const labels = new Map<string, bigint>();
  const task: Task = proc.threads[0];
  const ctx: Ctx = { k, task, tr };
  let stopped: string | undefined;
  for (const spec of s.steps) {
    const args = resolveArgs(spec.op, spec.raw, labels);
    const r = runAlone(k, execStep(ctx, spec.op, args, spec.index));
    results.push(r);
    ro.onStep?.(r, spec);
    if (spec.as !== undefined) labels.set(spec.as, BigInt(r.ret));
    if (spec.expect) {
      for (const m of compareExpect(spec.expect, r, labels))
        mismatches.push({ ...m, step: spec.index, op: spec.op.name, loc: spec.loc });
    }
    if (r.panic) {
      stopped = `kernel panic at step ${spec.index}: ${r.panic}`;
      break;
    }
    if (proc.killed) {
      stopped = `the VMM process was killed (SIGKILL) at step ${spec.index}`;
      break;
    }
  }
  return { scenario: s, options: k.opts, results, mismatches, stopped, kernel: k, trace: tr };
}
