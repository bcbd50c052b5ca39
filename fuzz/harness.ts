// What the fuzzers check, shared by the generators, the long runner and the vitest tests: how a thrown error is
// judged, a sequential runner with a work budget and per-step invariants, and the bounded explorer run.
import { DIAGNOSTICS } from '../src/diagnostics/codes.js';
import { GmemsimError, ScenarioError } from '../src/diagnostics/errors.js';
import { isEnabled } from '../src/engine/enabled.js';
import { explore } from '../src/engine/explore.js';
import { prepareProgram } from '../src/engine/program.js';
import type { KGen } from '../src/kernel/core/sched.js';
import { createKernel, createProcess, type Kernel } from '../src/kernel/machine.js';
import type { StepResult } from '../src/ops/result.js';
import { execStep, resolveArgs } from '../src/ops/step.js';
import { checkQuiescent, checkState, marksOf, newFacts, type Violation } from '../src/properties/properties.js';
import { compileScenario } from '../src/scenario/compile.js';
import { compareExpect } from '../src/scenario/expect.js';
import { loadScenario, type Scenario, type StepSpec } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { Tracer } from '../src/trace/tracer.js';

/** A fuzz finding: `signature` groups findings with the same cause (it names no input-specific numbers). */
export interface Failure {
  readonly signature: string;
  readonly message: string;
  readonly stack?: string;
}

/** Thrown inside fast-check properties so that fast-check shrinks the input. */
export class FuzzFailure extends Error {
  constructor(readonly failure: Failure) {
    super(`${failure.signature}\n${failure.message}${failure.stack ? `\n${failure.stack}` : ''}`);
    this.name = 'FuzzFailure';
  }
}

export const FUZZ_FILE = 'fuzz.yaml';

/** Where in gmemsim (or the fuzzer) an exception came from: the first frame in our sources, without line numbers. */
function topFrame(stack: string | undefined): string {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const m = /(?:at (?:(\S+) \()?)?[^\s(]*\/((?:src|fuzz)\/[^:)]+)/.exec(line);
    if (m) return `${m[2]}${m[1] ? `:${m[1]}` : ''}`;
  }
  return 'unknown';
}

/** Numbers and quoted user text vary from input to input; a signature must not. */
export function normalize(msg: string): string {
  return msg
    .split('\n')[0]
    .replace(/"[^"]*"/g, '"…"')
    .replace(/-?(?:0x[0-9a-f]+|\d+)n?/gi, 'N')
    .slice(0, 160);
}

export function crashFailure(e: unknown, phase: string): Failure {
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    signature: `crash:${phase}:${err.name}:${normalize(err.message)}@${topFrame(err.stack)}`,
    message: `${phase}: uncaught ${err.name}: ${err.message.slice(0, 2000)}`,
    stack: err.stack?.split('\n').slice(0, 14).join('\n'),
  };
}

/** Codes that mean "the model itself is broken"; never an acceptable answer to any input. */
const INTERNAL = new Set(['GMEM3900', 'GMEM3901']);

/**
 * Judges an exception thrown by gmemsim: null when it is a clean, coded refusal. Scenario errors must point at
 * the scenario file (line and column from 1).
 */
export function judgeThrown(e: unknown, phase: string, file = FUZZ_FILE): Failure | null {
  if (!(e instanceof GmemsimError)) return crashFailure(e, phase);
  if (e.diagnostics.length === 0) return { signature: `diag:${phase}:empty`, message: `${phase}: no diagnostics` };
  for (const d of e.diagnostics) {
    if (!Object.hasOwn(DIAGNOSTICS, d.code)) {
      return { signature: `diag:${phase}:unregistered`, message: `${phase}: unregistered code ${String(d.code)}` };
    }
    if (INTERNAL.has(d.code)) {
      return {
        signature: `internal:${phase}:${d.code}:${normalize(d.message)}`,
        message: `${phase}: ${d.code}: ${d.message}`,
        stack: e.stack?.split('\n').slice(0, 14).join('\n'),
      };
    }
    if (typeof d.message !== 'string' || d.message.length === 0) {
      return { signature: `diag:${phase}:no-message:${d.code}`, message: `${phase}: ${d.code} without a message` };
    }
    if (e instanceof ScenarioError) {
      const l = d.loc;
      const ok =
        l && l.file === file && Number.isInteger(l.line) && l.line >= 1 && Number.isInteger(l.col) && l.col >= 1;
      if (!ok) {
        return {
          signature: `diag:${phase}:bad-location:${d.code}`,
          message: `${phase}: ${d.code} "${d.message.slice(0, 200)}" has location ${JSON.stringify(l)}`,
        };
      }
    }
  }
  return null;
}

/** A step result must be what `--json` can print and `expect:` can compare. */
export function judgeResult(r: StepResult, where: string): Failure | null {
  const bad = (what: string): Failure => ({
    signature: `result:${what}`,
    message: `${where}: ${what}: ${(() => {
      try {
        return JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
      } catch {
        return String(r);
      }
    })()}`,
  });
  try {
    JSON.stringify(r);
  } catch {
    return bad('not JSON-serialisable');
  }
  const u64ok = (v: unknown) =>
    (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && /^0x[0-9a-f]+$/.test(v));
  if (!u64ok(r.ret)) return bad('ret is not a number or hex string');
  if (r.errno !== null && typeof r.errno !== 'string') return bad('errno is not a string or null');
  if (r.errno !== null && r.ret !== -1) return bad('errno set but ret is not -1');
  if (r.values && !r.values.every(u64ok)) return bad('values are not numbers or hex strings');
  if (r.value !== undefined && !u64ok(r.value)) return bad('value is not a number or hex string');
  return null;
}

// ---------------------------------------------------------------------------------------------------------------

export type DriveResult<T> = { value: T } | { blocked: string } | { exhausted: true };

/**
 * Runs a kernel path alone, like engine/sequential's runAlone, but gives up after `budget` scheduling points:
 * the model has no RAM limit, so some inputs (fallocate of a terabyte) would run for hours.
 */
export function drive<T>(k: Kernel, gen: KGen<T>, budget: { left: number }): DriveResult<T> {
  for (;;) {
    if (--budget.left < 0) return { exhausted: true };
    const r = gen.next();
    if (r.done) return { value: r.value };
    if (!isEnabled(k, r.value)) return { blocked: JSON.stringify(r.value, (_k, v) => (v instanceof Set ? [...v] : v)) };
  }
}

/** Thrown from inside the model when an input has used up its work budget. */
export class BudgetExceeded extends Error {
  override name = 'BudgetExceeded';
}

/**
 * Counts the VMA-list scans of the VMM's mm against the budget too: some model loops walk address ranges page by
 * page without ever yielding (madvise over a hole), so counting scheduling points alone would not stop them.
 */
function guardVmas(proc: ReturnType<typeof createProcess>, budget: { left: number }): void {
  const mm = proc.mm as { vmas: unknown[] };
  mm.vmas = new Proxy(mm.vmas, {
    get(target, prop, receiver) {
      if ((prop === Symbol.iterator || prop === 'find' || prop === 'some') && --budget.left < 0) {
        throw new BudgetExceeded('work budget exhausted in a VMA walk');
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

/** Work units (scheduling points and VMA walks) one step may take; the uAPI examples need a few thousand. */
export const WORK_BUDGET = 100_000;

export interface SeqCheck {
  /** check the model's invariants after every step (for the error handlers that are meant to keep them) */
  readonly properties: boolean;
  /** also run runScenario and require the same results */
  readonly crossCheck: boolean;
  readonly budget?: number;
}

/** Violations after a step that are always model bugs when a lone thread runs with the mainline handler. */
function stepViolations(k: Kernel, marks: ReturnType<typeof marksOf>): Violation[] {
  return [...checkState(k), ...checkQuiescent(k), ...newFacts(k, marks, () => undefined)];
}

export interface SeqOutcome {
  readonly failure: Failure | null;
  readonly results: StepResult[];
  /** why the run ended early: a clean refusal (GMEM3001, GMEM1017), a panic or SIGKILL */
  readonly stopped?: string;
}

/** Runs a loaded scenario's `steps` the way runScenario does, checking every step. */
export function runSequential(s: Scenario, o: SeqCheck): SeqOutcome {
  const k = createKernel({ ...s.options });
  const proc = createProcess(k, 'vmm');
  const ctx = { k, task: proc.threads[0], tr: new Tracer(false) };
  const labels = new Map<string, bigint>();
  const results: StepResult[] = [];
  const budget = { left: o.budget ?? WORK_BUDGET };
  guardVmas(proc, budget);
  const fail = (f: Failure): SeqOutcome => ({ failure: f, results });
  const exhausted = (where: string, op: string): SeqOutcome =>
    // the model keeps no RAM limit and walks some ranges page by page: a real kernel ends such a step with
    // ENOMEM, the OOM killer, or skips the hole in one go
    fail({
      signature: `budget:${op}`,
      message: `${where}: more than ${o.budget ?? WORK_BUDGET} units of work; time and memory grow without bound`,
    });
  for (const spec of s.steps) {
    const where = `step ${spec.index} (${spec.op.name})`;
    const marks = marksOf(k);
    // per step: a long scenario may take as long as its length, one step may not take unbounded time
    budget.left = o.budget ?? WORK_BUDGET;
    let r: StepResult;
    try {
      const d = drive(k, execStep(ctx, spec.op, resolveArgs(spec.op, spec.raw, labels), spec.index), budget);
      if ('exhausted' in d) return exhausted(where, spec.op.name);
      if ('blocked' in d) {
        return fail({
          signature: `blocked:${spec.op.name}`,
          message: `${where}: a lone thread blocked forever at ${d.blocked}`,
        });
      }
      r = d.value;
    } catch (e) {
      if (e instanceof BudgetExceeded) return exhausted(where, spec.op.name);
      const f = judgeThrown(e, `step ${spec.op.name}`);
      if (f) return fail({ ...f, message: `${where}: ${f.message}` });
      return { failure: null, results, stopped: `${(e as GmemsimError).code} at ${where}` };
    }
    results.push(r);
    const bad = judgeResult(r, where);
    if (bad) return fail(bad);
    if (spec.as !== undefined) labels.set(spec.as, BigInt(r.ret));
    if (spec.expect) {
      try {
        compareExpect(spec.expect, r, labels);
      } catch (e) {
        return fail(crashFailure(e, 'compareExpect'));
      }
    }
    if (o.properties) {
      const v = stepViolations(k, marks);
      if (v.length > 0) {
        return fail({
          signature: `property:${v[0].code}:${spec.op.name}`,
          message: `${where}: ${v.map((x) => `${x.code} ${x.message}`).join('; ')}`,
        });
      }
    }
    if (r.panic) return { failure: null, results, stopped: `panic at ${where}` };
    if (proc.killed) return { failure: null, results, stopped: `SIGKILL at ${where}` };
  }
  return { failure: null, results };
}

/** The results the CLI would print, for comparing two runs. */
const printable = (rs: readonly StepResult[]) => JSON.stringify(rs);

function crossCheck(s: Scenario, mine: SeqOutcome): Failure | null {
  let out: ReturnType<typeof runScenario>;
  try {
    out = runScenario(s);
  } catch (e) {
    const f = judgeThrown(e, 'runScenario');
    if (f) return f;
    if (mine.stopped === undefined) {
      return {
        signature: 'cross:runScenario-refused',
        message: `runScenario threw ${(e as Error).message} where the step-by-step run completed`,
      };
    }
    return null;
  }
  if (mine.stopped !== undefined && !/panic|SIGKILL/.test(mine.stopped)) {
    return {
      signature: 'cross:runScenario-ran',
      message: `runScenario completed where the step-by-step run stopped: ${mine.stopped}`,
    };
  }
  if (printable(out.results) !== printable(mine.results)) {
    return {
      signature: 'cross:results-differ',
      message: `runScenario: ${printable(out.results).slice(0, 600)}\nstep by step: ${printable(mine.results).slice(0, 600)}`,
    };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------

export interface ExploreCheck {
  readonly properties: boolean;
  readonly maxExecutions: number;
  readonly maxDepth: number;
}

/** Properties of single states: an explorer that reports one under the mainline handler found a model bug. */
const STATE_CODES = new Set(['GMEM4001', 'GMEM4003', 'GMEM4004', 'GMEM4006']);

export interface ExploreTally {
  executions: number;
  /** violations reported by the explorer that are findings about the modeled kernel, not fuzz failures */
  findings: Map<string, number>;
}

export function newTally(): ExploreTally {
  return { executions: 0, findings: new Map() };
}

/** Runs setup (budgeted) and a bounded exploration of a scenario with threads. */
export function runThreads(s: Scenario, o: ExploreCheck, tally?: ExploreTally): Failure | null {
  // the setup runs alone first under the work budget: prepareProgram has no bound of its own
  const setup = runSequential({ ...s, threads: new Map() }, { properties: o.properties, crossCheck: false });
  if (setup.failure) return setup.failure;
  let program: ReturnType<typeof prepareProgram>;
  try {
    program = prepareProgram(s);
  } catch (e) {
    return judgeThrown(e, 'prepareProgram');
  }
  let res: ReturnType<typeof explore>;
  try {
    res = explore(program, { maxExecutions: o.maxExecutions, maxDepth: o.maxDepth });
  } catch (e) {
    return judgeThrown(e, 'explore');
  }
  if (tally) tally.executions += res.executions;
  for (const v of res.violations) {
    if (!Object.hasOwn(DIAGNOSTICS, v.code)) {
      return { signature: 'explore:unregistered', message: `explorer reported unregistered code ${v.code}` };
    }
    if (o.properties && STATE_CODES.has(v.code)) {
      return {
        signature: `explore-property:${v.code}`,
        message: `${v.code} ${v.message} (token ${v.token}, ${v.preemptions} preemptions)`,
      };
    }
    tally?.findings.set(v.code, (tally.findings.get(v.code) ?? 0) + 1);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------

/** Loads and runs any text: the scenario-language property. */
export function checkAnyText(text: string, tally?: ExploreTally): Failure | null {
  let s: Scenario;
  try {
    s = loadScenario(FUZZ_FILE, text);
  } catch (e) {
    const f = judgeThrown(e, 'load');
    if (f) return f;
    if (!(e instanceof ScenarioError)) {
      return { signature: 'load:not-a-ScenarioError', message: `loadScenario threw ${(e as Error).name}` };
    }
    return null;
  }
  return checkLoaded(s, { properties: false, crossCheck: true }, tally);
}

/** What every loaded scenario must survive: compilation for the oracle, then a run or a bounded exploration. */
export function checkLoaded(s: Scenario, o: SeqCheck, tally?: ExploreTally): Failure | null {
  try {
    JSON.stringify(compileScenario(s));
  } catch (e) {
    const f = judgeThrown(e, 'compileScenario');
    if (f) return f;
  }
  if (s.threads.size > 0) {
    return runThreads(s, { properties: o.properties, maxExecutions: 5, maxDepth: 3000 }, tally);
  }
  const mine = runSequential(s, o);
  if (mine.failure) return mine.failure;
  if (!o.crossCheck) return null;
  return crossCheck(s, mine);
}

/**
 * The uAPI properties for a generated (well-shaped) scenario: it must load; then run with the invariants checked
 * after every step, when the error handler is the mainline one (the 2023 variants exist to break them).
 */
export function checkWellShaped(text: string, tally?: ExploreTally): Failure | null {
  let s: Scenario;
  try {
    s = loadScenario(FUZZ_FILE, text);
  } catch (e) {
    const f = judgeThrown(e, 'load');
    if (f) return f;
    return {
      signature: `rejected:${(e as GmemsimError).code}`,
      message: `a well-shaped scenario was rejected: ${(e as GmemsimError).diagnostics
        .slice(0, 3)
        .map((d) => `${d.loc?.line}:${d.loc?.col} ${d.code} ${d.message}`)
        .join('; ')}`,
    };
  }
  const properties = (s.options.error_handler ?? 'mainline') === 'mainline';
  if (s.threads.size === 0) return checkLoaded(s, { properties, crossCheck: true }, tally);
  // every thread run to its end in turn is one legal schedule: check it alone first, with the work budget, since
  // the explorer has no bound on the work inside one transition
  const flat = [...s.steps, ...[...s.threads.values()].flat(), ...s.after].map((st, index) => ({ ...st, index }));
  const alone = runSequential({ ...s, steps: flat, threads: new Map(), after: [] }, { properties, crossCheck: false });
  if (alone.failure) return { ...alone.failure, message: `threads run one after another: ${alone.failure.message}` };
  return runThreads(s, { properties, maxExecutions: 20, maxDepth: 3000 }, tally);
}

export type { StepSpec };
