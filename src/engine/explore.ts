// The explorer: exhaustive DPOR by default, or seeded random / PCT sampling. Collects the distinct outcomes and,
// for every property violated, the simplest schedule found (fewest preemptions, then shortest), shrunk further.
import type { DiagnosticCode } from '../diagnostics/codes.js';
import type { StepResult } from '../ops/result.js';
import { propertyTitle, type Violation } from '../properties/properties.js';
import { compareExpect } from '../scenario/expect.js';
import { Dpor, type DporOptions } from './dpor.js';
import { type Chooser, type ExecutionResult, runExecution } from './execution.js';
import type { Program } from './program.js';
import { Rng } from './random.js';
import { shrinkSchedule } from './shrink.js';
import { encodeToken } from './token.js';

/** dfs: exhaustive with DPOR; naive: exhaustive without reduction; random and pct: seeded sampling. */
export type Strategy = 'dfs' | 'naive' | 'random' | 'pct';

export interface ExploreOptions {
  readonly strategy?: Strategy;
  readonly seed?: number;
  readonly maxExecutions?: number;
  readonly maxSeconds?: number;
  readonly preemptionBound?: number;
  /** PCT bug depth d */
  readonly pctDepth?: number;
  readonly maxDepth?: number;
  readonly shard?: { readonly index: number; readonly count: number };
  /** levels explored in full before DPOR takes over (sharding needs >= 1) */
  readonly fullDepth?: number;
  /** shrink counterexamples after the search (default true) */
  readonly shrink?: boolean;
  readonly onProgress?: (p: Progress) => void;
  /** polled between executions: return a reason to stop early (e.g. SIGINT) */
  readonly shouldStop?: () => string | undefined;
  /** resume from a checkpointed search position */
  readonly startAfter?: number;
}

export interface Progress {
  readonly executions: number;
  readonly violations: number;
  readonly outcomes: number;
  readonly seconds: number;
}

export interface ViolationReport {
  readonly code: DiagnosticCode;
  readonly title: string;
  readonly message: string;
  readonly thread?: string;
  readonly token: string;
  readonly preemptions: number;
  readonly length: number;
  /** executions in which it occurred */
  readonly occurrences: number;
}

export interface OutcomeReport {
  /** per thread, one summary per step */
  readonly threads: Readonly<Record<string, string[]>>;
  readonly count: number;
}

export interface ExploreResult {
  readonly format: 'gmemsim-explore/1';
  readonly scenario: string;
  readonly file: string;
  readonly options: Program['options'];
  readonly strategy: Strategy;
  readonly seed?: number;
  readonly preemptionBound?: number;
  readonly shard?: { readonly index: number; readonly count: number };
  readonly executions: number;
  /** true when the whole space was covered (dfs without bounds or interruption) */
  readonly complete: boolean;
  /** executions cut short by sleep sets (equivalent to one explored already) */
  readonly pruned: number;
  readonly transitions: number;
  readonly seconds: number;
  readonly outcomes: OutcomeReport[];
  readonly violations: ViolationReport[];
  readonly interrupted?: string;
}

function summarize(r: StepResult): string {
  let s = `${r.op} ret=${r.ret}`;
  if (r.errno) s += ` ${r.errno}`;
  if (r.exit_reason && r.exit_reason !== 'KVM_EXIT_HLT') s += ` ${r.exit_reason}`;
  if (r.values?.length)
    s += ` values=[${r.values.map((v) => (typeof v === 'number' ? `0x${v.toString(16)}` : v)).join(',')}]`;
  if (r.signal) s += ` ${r.signal.signo}/${r.signal.code}`;
  if (r.panic) s += ' PANIC';
  return s;
}

export function outcomeOf(p: Program, r: ExecutionResult): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (r.status !== 'complete') out.status = [r.status];
  p.threads.forEach((t, i) => {
    out[t.name] = r.threadResults[i].map(summarize);
  });
  if (r.afterResults.length) out.after = r.afterResults.map(summarize);
  return out;
}

/** GMEM4010: the execution's results must match one of the scenario's `outcomes:` entries. */
function outcomeViolation(p: Program, r: ExecutionResult): Violation | null {
  const allowed = p.scenario.outcomes;
  if (allowed.length === 0 || r.status !== 'complete') return null;
  const results: Record<string, StepResult[]> = {};
  p.threads.forEach((t, i) => {
    results[t.name] = r.threadResults[i];
  });
  results.after = r.afterResults;
  const labels = new Map(p.labels);
  for (const t of r.world.threads) for (const [l, v] of t.labels) labels.set(l, v);
  const matches = (entry: Readonly<Record<string, unknown>>) =>
    Object.entries(entry).every(([thread, exps]) => {
      const rs = results[thread];
      if (!rs || !Array.isArray(exps)) return false;
      return exps.every((e, i) => rs[i] !== undefined && compareExpect(e as never, rs[i], labels).length === 0);
    });
  if (allowed.some(matches)) return null;
  return { code: 'GMEM4010', message: `outcome not in \`outcomes:\`: ${JSON.stringify(outcomeOf(p, r))}` };
}

interface Best {
  v: Violation;
  schedule: number[];
  preemptions: number;
  occurrences: number;
}

function better(a: { preemptions: number; schedule: number[] }, b: Best): boolean {
  return a.preemptions < b.preemptions || (a.preemptions === b.preemptions && a.schedule.length < b.schedule.length);
}

export function explore(p: Program, o: ExploreOptions = {}): ExploreResult {
  const strategy = o.strategy ?? 'dfs';
  const started = Date.now();
  const exhaustive = strategy === 'dfs' || strategy === 'naive';
  const maxExecutions = o.maxExecutions ?? (exhaustive ? Number.POSITIVE_INFINITY : 1000);
  const seed = o.seed ?? 1;
  const rng = new Rng(seed);
  const outcomes = new Map<string, OutcomeReport>();
  const best = new Map<DiagnosticCode, Best>();
  let executions = 0;
  let transitions = 0;
  let complete = false;
  let interrupted: string | undefined;
  const dpor = exhaustive
    ? new Dpor(p.threads.length, {
        preemptionBound: o.preemptionBound,
        fullDepth: o.shard ? Math.max(1, o.fullDepth ?? 1) : o.fullDepth,
        shard: o.shard,
        reduce: strategy === 'dfs',
      } satisfies DporOptions)
    : null;
  let pctSteps = 0;
  for (;;) {
    const stop = o.shouldStop?.();
    if (stop) {
      interrupted = stop;
      break;
    }
    if (executions >= maxExecutions) {
      interrupted = `stopped after --max-executions ${maxExecutions}`;
      break;
    }
    if (o.maxSeconds !== undefined && (Date.now() - started) / 1000 >= o.maxSeconds) {
      interrupted = `stopped after --max-seconds ${o.maxSeconds}`;
      break;
    }
    let r: ExecutionResult;
    if (dpor) {
      const { choose, beforeStep } = dpor.nextExecution();
      r = runExecution(p, choose, { beforeStep, maxDepth: o.maxDepth });
    } else {
      r = runExecution(
        p,
        strategy === 'random' ? randomChooser(rng) : pctChooser(rng, p.threads.length, o.pctDepth ?? 3, pctSteps),
        {
          maxDepth: o.maxDepth,
        },
      );
      pctSteps = Math.max(pctSteps, r.schedule.length);
    }
    executions++;
    transitions += r.schedule.length;
    if (r.status !== 'pruned') {
      const ov = outcomeViolation(p, r);
      const vs = ov ? [...r.violations, ov] : r.violations;
      const key = JSON.stringify(outcomeOf(p, r));
      const prev = outcomes.get(key);
      outcomes.set(key, { threads: prev?.threads ?? outcomeOf(p, r), count: (prev?.count ?? 0) + 1 });
      for (const v of vs) {
        const b = best.get(v.code);
        const cand = { preemptions: r.preemptions, schedule: r.schedule };
        if (!b) best.set(v.code, { v, schedule: r.schedule, preemptions: r.preemptions, occurrences: 1 });
        else {
          b.occurrences++;
          if (better(cand, b)) Object.assign(b, { v, schedule: r.schedule, preemptions: r.preemptions });
        }
      }
    }
    if (o.onProgress && executions % 50 === 0) {
      o.onProgress({
        executions,
        violations: best.size,
        outcomes: outcomes.size,
        seconds: (Date.now() - started) / 1000,
      });
    }
    if (dpor && !dpor.finish(r)) {
      complete = o.preemptionBound === undefined;
      break;
    }
  }
  const violations: ViolationReport[] = [...best.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, b]) => {
      const s =
        o.shrink === false
          ? { schedule: b.schedule, preemptions: b.preemptions, violation: b.v }
          : (shrinkSchedule(p, b.schedule, code, o.maxDepth) ?? {
              schedule: b.schedule,
              preemptions: b.preemptions,
              violation: b.v,
            });
      return {
        code,
        title: propertyTitle(code),
        message: s.violation.message,
        ...(s.violation.thread ? { thread: s.violation.thread } : {}),
        token: encodeToken(p, s.schedule),
        preemptions: s.preemptions,
        length: s.schedule.length,
        occurrences: b.occurrences,
      };
    });
  return {
    format: 'gmemsim-explore/1',
    scenario: p.scenario.name,
    file: p.scenario.file,
    options: p.options,
    strategy,
    ...(exhaustive ? {} : { seed }),
    ...(o.preemptionBound !== undefined ? { preemptionBound: o.preemptionBound } : {}),
    ...(o.shard ? { shard: o.shard } : {}),
    executions,
    complete: complete && !interrupted,
    pruned: dpor?.sleepBlocked ?? 0,
    transitions,
    seconds: (Date.now() - started) / 1000,
    outcomes: [...outcomes.values()],
    violations,
    ...(interrupted ? { interrupted } : {}),
  };
}

function randomChooser(rng: Rng): Chooser {
  return (_w, _d, enabled) => enabled[rng.below(enabled.length)];
}

/**
 * PCT (Burckhardt et al., ASPLOS'10): random distinct thread priorities, run the highest-priority enabled thread,
 * and at d-1 random change points demote the running thread below all others.
 */
function pctChooser(rng: Rng, n: number, d: number, k: number): Chooser {
  const prio = Array.from({ length: n }, (_, i) => i + d);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [prio[i], prio[j]] = [prio[j], prio[i]];
  }
  const changes = new Map<number, number>();
  for (let i = 1; i < d; i++) changes.set(rng.below(Math.max(1, k || 50)), d - i);
  return (_w, depth, enabled) => {
    let top = enabled[0];
    for (const t of enabled) if (prio[t] > prio[top]) top = t;
    const low = changes.get(depth);
    if (low !== undefined) {
      prio[top] = low;
      top = enabled[0];
      for (const t of enabled) if (prio[t] > prio[top]) top = t;
    }
    return top;
  };
}
