// One execution: threads advance one transition at a time as a chooser decides, with the properties checked
// after every transition; then the `after` steps, the quiescent checks and the outcome.
import { describePoint, type Point } from '../kernel/core/sched.js';
import type { Kernel } from '../kernel/machine.js';
import type { StepResult } from '../ops/result.js';
import { execStep, resolveArgs } from '../ops/step.js';
import { checkQuiescent, checkState, marksOf, newFacts, type Violation } from '../properties/properties.js';
import { compareExpect } from '../scenario/expect.js';
import type { Tracer } from '../trace/tracer.js';
import { footprint } from './dependence.js';
import type { Program } from './program.js';
import { tryRunAlone } from './sequential.js';
import { World } from './world.js';

/** Picks the next thread among the enabled ones, or returns null to abandon the execution (pruned). */
export type Chooser = (w: World, depth: number, enabled: number[]) => number | null;

export interface ExecutionOptions {
  readonly trace?: boolean | ((k: Kernel) => Tracer);
  /** transitions before the execution is declared a livelock */
  readonly maxDepth?: number;
  /** called before each transition with the point about to run */
  readonly beforeStep?: (w: World, depth: number, thread: number, point: Point) => void;
  /** the first N transitions repeat a prefix whose properties were checked in an earlier execution */
  readonly checkedPrefix?: number;
}

export type ExecStatus = 'complete' | 'deadlock' | 'pruned' | 'bounded';

export interface ExecutionResult {
  readonly status: ExecStatus;
  readonly schedule: number[];
  /** context switches away from a thread that could have continued */
  readonly preemptions: number;
  readonly violations: Violation[];
  /** each thread's step results, in scenario thread order */
  readonly threadResults: StepResult[][];
  readonly afterResults: StepResult[];
  readonly world: World;
  /** for each transition, the trace events it emitted: [first, end) */
  readonly eventRanges: Array<readonly [number, number]>;
}

export const DEFAULT_MAX_DEPTH = 20_000;

export function runExecution(program: Program, choose: Chooser, opts: ExecutionOptions = {}): ExecutionResult {
  const w = new World(program, opts.trace ?? false);
  const schedule: number[] = [];
  const eventRanges: Array<readonly [number, number]> = [];
  const seen = new Set<string>();
  const violations: Violation[] = [];
  const add = (v: Violation) => {
    const key = `${v.code}\u0000${v.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    violations.push(v);
  };
  const threadOf = (tid: number) => w.threadName(tid);
  let status: ExecStatus = 'complete';
  let preemptions = 0;
  let prev = -1;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  for (let depth = 0; ; depth++) {
    if (w.allDone()) break;
    const enabled = w.enabledThreads();
    if (enabled.length === 0) {
      status = 'deadlock';
      const edges = w.waitEdges();
      add({
        code: 'GMEM4008',
        message: `deadlock: ${edges.map((e) => `${e.waiter} waits for ${e.on} held by ${e.holders.join(', ') || 'nobody'}`).join('; ')}`,
      });
      break;
    }
    if (depth >= maxDepth) {
      status = 'bounded';
      add({ code: 'GMEM4011', message: `no thread finished within ${maxDepth} transitions` });
      break;
    }
    const t = choose(w, depth, enabled);
    if (t === null) {
      status = 'pruned';
      break;
    }
    if (prev >= 0 && t !== prev && enabled.includes(prev)) preemptions++;
    prev = t;
    const point = w.threads[t].next!;
    opts.beforeStep?.(w, depth, t, point);
    const check = depth >= (opts.checkedPrefix ?? 0);
    const marks = check ? marksOf(w.k) : null;
    const firstEvent = w.tr.events.length;
    w.step(t);
    eventRanges.push([firstEvent, w.tr.events.length]);
    schedule.push(t);
    if (marks) {
      for (const v of newFacts(w.k, marks, threadOf)) add(v);
      // a transition changes only the object its point names, so only a write can break a state invariant
      if (footprint(point).write) for (const v of checkState(w.k)) add(v);
    }
  }
  let afterResults: StepResult[] = [];
  if (status === 'complete') {
    const end = finishExecution(w, add, threadOf);
    afterResults = end.afterResults;
    if (end.deadlocked) status = 'deadlock';
  }
  return {
    status,
    schedule,
    preemptions,
    violations,
    threadResults: w.threads.map((t) => t.results),
    afterResults,
    world: w,
    eventRanges,
  };
}

/**
 * Once every thread has finished: the quiescent checks, the threads' `expect:`s and the `after` steps (run alone,
 * each checked like a transition). `deadlocked` when an `after` step waits forever.
 */
export function finishExecution(
  w: World,
  add: (v: Violation) => void,
  threadOf: (tid: number) => string | undefined,
): { afterResults: StepResult[]; deadlocked: boolean } {
  const program = w.program;
  const afterResults: StepResult[] = [];
  for (const v of checkQuiescent(w.k)) add(v);
  for (const t of w.threads) {
    t.spec.steps.forEach((spec, i) => {
      const r = t.results[i];
      if (!spec.expect || !r) return;
      for (const m of compareExpect(spec.expect, r, t.labels)) {
        add({
          code: 'GMEM4012',
          message: `${t.spec.name} step ${spec.index} (${spec.op.name}): ${m.field}: expected ${String(m.expected)}, got ${JSON.stringify(m.actual)}`,
          thread: t.spec.name,
        });
      }
    });
  }
  const labels = new Map(program.labels);
  for (const t of w.threads) for (const [l, v] of t.labels) labels.set(l, v);
  const ctx = { k: w.k, task: w.k.procs[0].threads[0], tr: w.tr };
  for (const spec of program.scenario.after) {
    const marks = marksOf(w.k);
    const run = tryRunAlone(w.k, execStep(ctx, spec.op, resolveArgs(spec.op, spec.raw, labels), spec.index));
    if ('blocked' in run) {
      add({
        code: 'GMEM4008',
        message: `after step ${spec.index} (${spec.op.name}) waits forever: ${describePoint(run.blocked)}`,
      });
      return { afterResults, deadlocked: true };
    }
    const r = run.value;
    r.thread = 'after';
    afterResults.push(r);
    if (spec.as !== undefined) labels.set(spec.as, BigInt(r.ret));
    for (const v of newFacts(w.k, marks, threadOf)) add(v);
    for (const v of checkState(w.k)) add(v);
    if (spec.expect) {
      for (const m of compareExpect(spec.expect, r, labels)) {
        add({
          code: 'GMEM4012',
          message: `after step ${spec.index} (${spec.op.name}): ${m.field}: expected ${String(m.expected)}, got ${JSON.stringify(m.actual)}`,
        });
      }
    }
  }
  return { afterResults, deadlocked: false };
}
