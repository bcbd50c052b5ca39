// The explorer: exhaustive DPOR by default, or seeded random / PCT sampling. Collects the distinct outcomes and,
// for every property violated, the simplest schedule found (fewest preemptions, then shortest), shrunk further.
import type { DiagnosticCode } from '../diagnostics/codes.js';
import { GmemsimError } from '../diagnostics/errors.js';
import type { StepResult } from '../ops/result.js';
import { propertyTitle, type Violation } from '../properties/properties.js';
import { compareExpect } from '../scenario/expect.js';
import { CHECKPOINT_FORMAT, type ExploreCheckpoint } from './checkpoint.js';
import { type CarvedNode, Dpor, type DporCheckpoint, type DporOptions, type SharedBacktrack } from './dpor.js';
import { type Chooser, type ExecutionResult, runExecution } from './execution.js';
import type { Program } from './program.js';
import { Rng } from './random.js';
import { shrinkSchedule } from './shrink.js';
import { encodeToken, programHash } from './token.js';

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
  /** stop (with the partial result) when the process's resident memory passes this many MiB */
  readonly maxMemoryMb?: number;
  /** count the distinct Mazurkiewicz traces among the executions (dfs and naive) */
  readonly countTraces?: boolean;
  /** called with the search position every `checkpointSeconds` (default 5) and when the search stops early */
  readonly onCheckpoint?: (cp: ExploreCheckpoint) => void;
  readonly checkpointSeconds?: number;
  /** continue a search from a checkpoint of the same program and options */
  readonly resume?: ExploreCheckpoint;
  /** end the search after the first execution that violates one of these (a partial result, "found CODE") */
  readonly stopOn?: readonly DiagnosticCode[];
  /** parallel exploration: backtrack points of nodes this search shares with others (see parallel.ts) */
  readonly onShared?: (b: SharedBacktrack) => void;
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
  /** distinct Mazurkiewicz traces among the executions, when counted (--count-traces) */
  readonly traces?: number;
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

export interface Best {
  v: Violation;
  schedule: number[];
  preemptions: number;
  occurrences: number;
}

function better(a: { preemptions: number; schedule: number[] }, b: Best): boolean {
  return a.preemptions < b.preemptions || (a.preemptions === b.preemptions && a.schedule.length < b.schedule.length);
}

/** Stops the search when a limit is reached: the reason, or undefined to go on. */
function limitReached(
  o: ExploreOptions,
  executions: number,
  maxExecutions: number,
  started: number,
): string | undefined {
  const stop = o.shouldStop?.();
  if (stop) return stop;
  if (executions >= maxExecutions) return `stopped after --max-executions ${maxExecutions}`;
  if (o.maxSeconds !== undefined && (Date.now() - started) / 1000 >= o.maxSeconds) {
    return `stopped after --max-seconds ${o.maxSeconds}`;
  }
  if (o.maxMemoryMb !== undefined && executions % 16 === 0) {
    const mb = process.memoryUsage().rss / 2 ** 20;
    if (mb >= o.maxMemoryMb) return `stopped at --max-memory ${o.maxMemoryMb} MiB (resident ${Math.round(mb)} MiB)`;
  }
  return undefined;
}

/**
 * One search, run in slices: `run(ms)` explores for about `ms` milliseconds and says whether the search has
 * ended, so a caller on the event loop (the CLI, for Ctrl-C) can give it control back in between.
 */
export class Exploration {
  private readonly strategy: Strategy;
  private readonly exhaustive: boolean;
  private readonly maxExecutions: number;
  private readonly seed: number;
  private readonly started: number;
  private readonly rng: Rng;
  private readonly outcomes: Map<string, OutcomeReport>;
  private readonly best: Map<DiagnosticCode, Best>;
  private readonly traces: Set<string> | null;
  private readonly dpor: Dpor | null;
  private executions: number;
  private transitions: number;
  private pctSteps: number;
  private complete = false;
  private interrupted: string | undefined;
  private ended = false;
  private lastCheckpoint = Date.now();

  constructor(
    private readonly p: Program,
    private readonly o: ExploreOptions = {},
  ) {
    this.strategy = o.strategy ?? 'dfs';
    this.exhaustive = this.strategy === 'dfs' || this.strategy === 'naive';
    this.maxExecutions = o.maxExecutions ?? (this.exhaustive ? Number.POSITIVE_INFINITY : 1000);
    this.seed = o.seed ?? 1;
    const cp = o.resume;
    if (cp) checkResume(p, o, cp);
    this.started = Date.now() - (cp?.seconds ?? 0) * 1000;
    this.rng = cp?.rng ? Rng.fromState(cp.rng) : new Rng(this.seed);
    this.outcomes = new Map(cp?.outcomes.map((x) => [JSON.stringify(x.threads), { ...x }]));
    this.best = new Map(
      cp?.best.map((b) => [
        b.v.code,
        { v: b.v, schedule: b.schedule, preemptions: b.preemptions, occurrences: b.occurrences },
      ]),
    );
    this.traces = o.countTraces && this.exhaustive ? new Set<string>(cp?.traces) : null;
    this.executions = cp?.executions ?? 0;
    this.transitions = cp?.transitions ?? 0;
    this.pctSteps = cp?.pctSteps ?? 0;
    const dporOptions: DporOptions = {
      preemptionBound: o.preemptionBound,
      fullDepth: o.shard ? Math.max(1, o.fullDepth ?? 1) : o.fullDepth,
      shard: o.shard,
      reduce: this.strategy === 'dfs',
      onShared: o.onShared,
    };
    this.dpor = this.exhaustive
      ? cp?.dpor
        ? Dpor.restore(p.threads.length, dporOptions, cp.dpor)
        : new Dpor(p.threads.length, dporOptions)
      : null;
  }

  /** The search position and the findings so far. */
  checkpoint(): ExploreCheckpoint {
    return {
      format: CHECKPOINT_FORMAT,
      program: programHash(this.p),
      strategy: this.strategy,
      seed: this.seed,
      executions: this.executions,
      transitions: this.transitions,
      seconds: (Date.now() - this.started) / 1000,
      outcomes: [...this.outcomes.values()],
      best: [...this.best.values()].map((b) => ({ ...b })),
      ...(this.traces ? { traces: [...this.traces] } : {}),
      ...(this.dpor ? { dpor: this.dpor.checkpoint() } : { rng: this.rng.state(), pctSteps: this.pctSteps }),
    };
  }

  /** Parallel exploration: hands unexplored branches to other searches (see Dpor.carve). */
  carve(): CarvedNode[] {
    return this.dpor?.carve() ?? [];
  }

  /** The DPOR position alone, to continue this search elsewhere. */
  dporCheckpoint(): DporCheckpoint | null {
    return this.dpor?.checkpoint() ?? null;
  }

  /** The Mazurkiewicz traces counted so far (countTraces). */
  traceKeys(): string[] {
    return this.traces ? [...this.traces] : [];
  }

  /** Explores for about `ms` milliseconds; true once the search has ended (exhausted, bounded or stopped). */
  run(ms = Number.POSITIVE_INFINITY): boolean {
    const { p, o } = this;
    const until = Date.now() + ms;
    const every = (o.checkpointSeconds ?? 5) * 1000;
    while (!this.ended && Date.now() < until) {
      this.interrupted = limitReached(o, this.executions, this.maxExecutions, this.started);
      if (this.interrupted) {
        this.ended = true;
        o.onCheckpoint?.(this.checkpoint());
        break;
      }
      if (o.onCheckpoint && Date.now() - this.lastCheckpoint >= every) {
        o.onCheckpoint(this.checkpoint());
        this.lastCheckpoint = Date.now();
      }
      let r: ExecutionResult;
      if (this.dpor) {
        const checkedPrefix = this.dpor.replayed;
        const { choose, beforeStep } = this.dpor.nextExecution();
        r = runExecution(p, choose, { beforeStep, maxDepth: o.maxDepth, checkedPrefix });
      } else {
        const chooser =
          this.strategy === 'random'
            ? randomChooser(this.rng)
            : pctChooser(this.rng, p.threads.length, o.pctDepth ?? 3, this.pctSteps);
        r = runExecution(p, chooser, { maxDepth: o.maxDepth });
        this.pctSteps = Math.max(this.pctSteps, r.schedule.length);
      }
      this.executions++;
      this.transitions += r.schedule.length;
      const found = r.status !== 'pruned' ? this.record(r) : undefined;
      if (found) {
        this.interrupted = `found ${found}`;
        this.ended = true;
      }
      if (o.onProgress && this.executions % 50 === 0) {
        o.onProgress({
          executions: this.executions,
          violations: this.best.size,
          outcomes: this.outcomes.size,
          seconds: (Date.now() - this.started) / 1000,
        });
      }
      if (this.dpor && !this.dpor.finish(r)) {
        this.complete = o.preemptionBound === undefined;
        this.ended = true;
      }
    }
    return this.ended;
  }

  /** Returns the first of the options' stopOn codes the execution violates. */
  private record(r: ExecutionResult): DiagnosticCode | undefined {
    const { p } = this;
    if (this.traces && this.dpor) this.traces.add(this.dpor.traceKey());
    const ov = outcomeViolation(p, r);
    const vs = ov ? [...r.violations, ov] : r.violations;
    const key = JSON.stringify(outcomeOf(p, r));
    const prev = this.outcomes.get(key);
    this.outcomes.set(key, { threads: prev?.threads ?? outcomeOf(p, r), count: (prev?.count ?? 0) + 1 });
    for (const v of vs) {
      const b = this.best.get(v.code);
      const cand = { preemptions: r.preemptions, schedule: r.schedule };
      if (!b) this.best.set(v.code, { v, schedule: r.schedule, preemptions: r.preemptions, occurrences: 1 });
      else {
        b.occurrences++;
        if (better(cand, b)) Object.assign(b, { v, schedule: r.schedule, preemptions: r.preemptions });
      }
    }
    return this.o.stopOn?.find((code) => vs.some((v) => v.code === code));
  }

  /** The result so far (final once `run` has returned true); counterexamples are shrunk here. */
  result(): ExploreResult {
    const { p, o } = this;
    const violations: ViolationReport[] = [...this.best.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, b]) => {
        const raw: ViolationReport = {
          code,
          title: propertyTitle(code),
          message: b.v.message,
          ...(b.v.thread ? { thread: b.v.thread } : {}),
          token: encodeToken(p, b.schedule),
          preemptions: b.preemptions,
          length: b.schedule.length,
          occurrences: b.occurrences,
        };
        return o.shrink === false ? raw : shrinkReport(p, raw, b.schedule, o.maxDepth);
      });
    return {
      format: 'gmemsim-explore/1',
      scenario: p.scenario.name,
      file: p.scenario.file,
      options: p.options,
      strategy: this.strategy,
      ...(this.exhaustive ? {} : { seed: this.seed }),
      ...(o.preemptionBound !== undefined ? { preemptionBound: o.preemptionBound } : {}),
      ...(o.shard ? { shard: o.shard } : {}),
      executions: this.executions,
      complete: this.complete && !this.interrupted,
      pruned: this.dpor?.sleepBlocked ?? 0,
      transitions: this.transitions,
      ...(this.traces ? { traces: this.traces.size } : {}),
      seconds: (Date.now() - this.started) / 1000,
      outcomes: [...this.outcomes.values()],
      violations,
      ...(this.interrupted ? { interrupted: this.interrupted } : {}),
    };
  }
}

export function explore(p: Program, o: ExploreOptions = {}): ExploreResult {
  const e = new Exploration(p, o);
  e.run();
  return e.result();
}

/** A checkpoint continues only the search it came from. */
function checkResume(p: Program, o: ExploreOptions, cp: ExploreCheckpoint): void {
  const problems: string[] = [];
  if (cp.program !== programHash(p)) problems.push('it was written for a different scenario or kernel options');
  if (cp.strategy !== (o.strategy ?? 'dfs')) problems.push(`it is a ${cp.strategy} search, not ${o.strategy ?? 'dfs'}`);
  if (cp.strategy !== 'dfs' && cp.strategy !== 'naive' && cp.seed !== (o.seed ?? 1)) {
    problems.push(`its seed is ${cp.seed}, not ${o.seed ?? 1}`);
  }
  const n = p.threads.length;
  const bad = (xs: readonly number[]) => xs.some((t) => t >= n);
  const stackBad = cp.dpor?.stack.some(
    (x) =>
      bad(x.enabled) ||
      bad(x.backtrack) ||
      bad(x.done) ||
      bad(x.sleep) ||
      bad(x.siblings ?? []) ||
      x.chosen < 0 ||
      x.chosen >= n,
  );
  if (stackBad || cp.best.some((b) => bad(b.schedule)))
    problems.push(`it names threads the scenario (${n} threads) does not have`);
  if (problems.length) {
    throw new GmemsimError({ code: 'GMEM5011', message: `cannot resume from this checkpoint: ${problems.join('; ')}` });
  }
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

/** A violation with its schedule shrunk to the shortest that still shows it (see shrink.ts). */
export function shrinkReport(
  p: Program,
  v: ViolationReport,
  schedule: readonly number[],
  maxDepth?: number,
): ViolationReport {
  const s = shrinkSchedule(p, [...schedule], v.code, maxDepth);
  if (!s) return v;
  const { thread: _t, ...rest } = v;
  return {
    ...rest,
    message: s.violation.message,
    ...(s.violation.thread ? { thread: s.violation.thread } : {}),
    token: encodeToken(p, s.schedule),
    preemptions: s.preemptions,
    length: s.schedule.length,
  };
}
