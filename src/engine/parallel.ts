// Parallel DPOR: one exhaustive search split into tasks that run on worker threads.
//
// A task explores the subtree below its branch at one node with ordinary source-DPOR, for a budget of
// executions. The nodes at and above that node are shared with other tasks: a race that needs a backtrack point
// there is reported (SharedBacktrack) instead of added, and the coordinator turns each new branch into a task.
// A task that runs out of budget gives away the unexplored branches of its shallowest node (Dpor.carve) and
// continues with what is left. Branches of a node count as explored in the order the coordinator assigned them,
// which is what sleep sets need. Tasks run in rounds and their reports are applied in task order, so the search,
// and its result, do not depend on which worker finished first.
import { GmemsimError } from '../diagnostics/errors.js';
import { CHECKPOINT_FORMAT, type ExploreCheckpoint } from './checkpoint.js';
import type { CarvedNode, DporCheckpoint, SharedBacktrack } from './dpor.js';
import {
  Exploration,
  type ExploreOptions,
  type ExploreResult,
  type OutcomeReport,
  shrinkReport,
  type ViolationReport,
} from './explore.js';
import type { Program } from './program.js';
import { decodeToken, programHash } from './token.js';

/** Executions a task runs before it hands work back: small enough to balance, large enough to amortise. */
export const TASK_BUDGET = 300;

export interface ParallelTask {
  /** the search position to start from; null for the root */
  readonly dpor: DporCheckpoint | null;
}

export interface ParallelTaskResult {
  /** this task's executions (counterexamples not shrunk) */
  readonly result: ExploreResult;
  readonly traces: readonly string[];
  readonly shared: readonly SharedBacktrack[];
  readonly carved: readonly CarvedNode[];
  /** where to go on, when the budget ran out first */
  readonly continuation: DporCheckpoint | null;
}

/** Runs one task (on a worker thread). */
export function runParallelTask(
  p: Program,
  o: ExploreOptions,
  task: ParallelTask,
  budget = TASK_BUDGET,
): ParallelTaskResult {
  const shared: SharedBacktrack[] = [];
  const resume: ExploreCheckpoint | undefined = task.dpor
    ? {
        format: CHECKPOINT_FORMAT,
        program: programHash(p),
        strategy: 'dfs' as const,
        seed: 1,
        executions: 0,
        transitions: 0,
        seconds: 0,
        outcomes: [],
        best: [],
        dpor: task.dpor,
      }
    : undefined;
  const e = new Exploration(p, {
    ...o,
    strategy: 'dfs',
    shrink: false,
    maxExecutions: budget,
    maxSeconds: undefined,
    resume,
    onShared: (b) => shared.push(b),
  });
  e.run();
  const result = e.result();
  const more = !result.complete && result.executions >= budget && !o.shouldStop?.();
  const carved = more ? e.carve() : [];
  return { result, traces: e.traceKeys(), shared, carved, continuation: more ? e.dporCheckpoint() : null };
}

interface SharedNode {
  readonly stack: DporCheckpoint['stack'];
  /** its branches, in the order they count as explored */
  readonly assigned: number[];
}

/** The task for branch `u` of a shared node: every branch assigned before it counts as explored. */
function branchTask(node: SharedNode, u: number): ParallelTask {
  const at = node.stack.length - 1;
  const n = node.stack[at];
  const before = node.assigned.slice(0, node.assigned.indexOf(u));
  return {
    dpor: {
      floor: at,
      replayLen: at,
      sleepBlocked: 0,
      shardCounter: 0,
      stack: [...node.stack.slice(0, at), { ...n, chosen: u, backtrack: [u], done: before }],
    },
  };
}

const nodeKey = (prefix: readonly number[]) => prefix.join(',');

/**
 * The coordinator: runs tasks through `run` (a worker pool) in rounds until none is left, then merges the
 * results as one exploration's.
 */
export async function exploreInParallel(
  p: Program,
  o: ExploreOptions,
  run: (t: ParallelTask) => Promise<ParallelTaskResult>,
): Promise<ExploreResult> {
  if (o.preemptionBound !== undefined || (o.strategy ?? 'dfs') !== 'dfs') {
    throw new GmemsimError({
      code: 'GMEM5002',
      message: 'parallel exploration (--workers) is for the exhaustive dfs search without a preemption bound',
    });
  }
  const started = Date.now();
  const nodes = new Map<string, SharedNode>();
  const parts: ExploreResult[] = [];
  const traces = new Set<string>();
  let queue: ParallelTask[] = [{ dpor: null }];
  let interrupted: string | undefined;
  let executions = 0;
  while (queue.length > 0) {
    const outs = await Promise.all(queue.map(run));
    queue = [];
    for (const out of outs) {
      parts.push(out.result);
      executions += out.result.executions;
      for (const t of out.traces) traces.add(t);
      if (out.result.interrupted && !out.continuation && !out.result.complete) interrupted ??= out.result.interrupted;
      for (const c of out.carved) {
        const node: SharedNode = { stack: c.stack, assigned: [...c.assigned] };
        nodes.set(nodeKey(c.stack.slice(0, -1).map((n) => n.chosen)), node);
        for (const u of c.given) queue.push(branchTask(node, u));
      }
      for (const s of out.shared) {
        const node = nodes.get(nodeKey(s.prefix));
        if (!node)
          throw new GmemsimError({
            code: 'GMEM3900',
            message: `parallel DPOR: no shared node at ${nodeKey(s.prefix)}`,
          });
        // backtrackFor(): nothing to do if some initial is a branch already
        if (s.initials.some((t) => node.assigned.includes(t))) continue;
        const sleep = node.stack[node.stack.length - 1].sleep;
        for (const v of s.enabled.includes(s.want) ? [s.want] : s.enabled) {
          if (node.assigned.includes(v)) continue;
          node.assigned.push(v);
          if (!sleep.includes(v)) queue.push(branchTask(node, v));
        }
      }
      if (out.continuation) queue.push({ dpor: out.continuation });
    }
    const limit = globalLimit(o, executions, started);
    if (limit && queue.length > 0) interrupted ??= limit;
    if (interrupted) break;
  }
  return merge(p, o, parts, traces, interrupted, started);
}

function globalLimit(o: ExploreOptions, executions: number, started: number): string | undefined {
  if (o.maxExecutions !== undefined && executions >= o.maxExecutions) {
    return `stopped after --max-executions ${o.maxExecutions}`;
  }
  if (o.maxSeconds !== undefined && (Date.now() - started) / 1000 >= o.maxSeconds) {
    return `stopped after --max-seconds ${o.maxSeconds}`;
  }
  return o.shouldStop?.();
}

/** One exploration's result from the tasks': counts add up, each property keeps its best counterexample. */
function merge(
  p: Program,
  o: ExploreOptions,
  parts: readonly ExploreResult[],
  traces: ReadonlySet<string>,
  interrupted: string | undefined,
  started: number,
): ExploreResult {
  const outcomes = new Map<string, OutcomeReport>();
  const best = new Map<string, ViolationReport>();
  for (const part of parts) {
    for (const x of part.outcomes) {
      const key = JSON.stringify(x.threads);
      outcomes.set(key, { threads: x.threads, count: (outcomes.get(key)?.count ?? 0) + x.count });
    }
    for (const v of part.violations) {
      const b = best.get(v.code);
      const occurrences = (b?.occurrences ?? 0) + v.occurrences;
      const better =
        !b ||
        v.preemptions < b.preemptions ||
        (v.preemptions === b.preemptions && (v.length < b.length || (v.length === b.length && v.token < b.token)));
      best.set(v.code, { ...(better ? v : b), occurrences });
    }
  }
  const violations = [...best.values()]
    .sort((a, b) => a.code.localeCompare(b.code))
    .map((v) => {
      const schedule = decodeToken(v.token)?.schedule;
      return o.shrink === false || !schedule ? v : shrinkReport(p, v, schedule, o.maxDepth);
    });
  const first = parts[0];
  return {
    format: 'gmemsim-explore/1',
    scenario: first.scenario,
    file: first.file,
    options: first.options,
    strategy: 'dfs',
    executions: parts.reduce((a, x) => a + x.executions, 0),
    complete: interrupted === undefined,
    pruned: parts.reduce((a, x) => a + x.pruned, 0),
    transitions: parts.reduce((a, x) => a + x.transitions, 0),
    ...(o.countTraces ? { traces: traces.size } : {}),
    seconds: (Date.now() - started) / 1000,
    outcomes: [...outcomes.values()],
    violations,
    ...(interrupted ? { interrupted } : {}),
  };
}
