// Peer baseline: fast-check's scheduler() driving the gmemsim model itself. Each scenario thread runs as an async
// task that awaits `s.schedule(...)` before every scheduling point, so fast-check's scheduler (seeded random
// choice among the pending tasks) picks the interleaving; our explorer plays no part. The properties are checked
// after every transition exactly as runExecution() does (see README.md).
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { DiagnosticCode } from '../../../src/diagnostics/codes.js';
import { DEFAULT_MAX_DEPTH, type ExecStatus, finishExecution } from '../../../src/engine/execution.js';
import { type Program, prepareProgram } from '../../../src/engine/program.js';
import { World } from '../../../src/engine/world.js';
import { describePoint } from '../../../src/kernel/core/sched.js';
import type { KernelOptions } from '../../../src/kernel/options.js';
import { checkState, marksOf, newFacts, type Violation } from '../../../src/properties/properties.js';
import { loadScenario } from '../../../src/scenario/load.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

export interface Defect {
  /** scenario file, relative to the repository */
  readonly file: string;
  readonly kernel: Partial<KernelOptions>;
  /** the property the variant violates */
  readonly code: DiagnosticCode;
  readonly what: string;
}

/** Defects of the rejected variants, as docs/variants.md records them (✗ cells), one per kind of failure. */
export const DEFECTS: readonly Defect[] = [
  {
    file: 'scenarios/fault-vs-mf.yaml',
    kernel: { error_handler: 'rfc-2023' },
    code: 'GMEM4001',
    what: 'RFC v1 handler skips the zap (index taken for a gfn): an SPTE keeps mapping the poisoned folio',
  },
  {
    file: 'scenarios/fault-vs-mf.yaml',
    kernel: { error_handler: 'original-2023' },
    code: 'GMEM4001',
    what: 'original SIGBUS-loop handler never zaps: an SPTE keeps mapping the poisoned folio',
  },
  {
    file: 'scenarios/fault-vs-mf.yaml',
    kernel: { error_handler: 'truncate' },
    code: 'GMEM4002',
    what: 'truncating handler: the guest reads a fresh page where the poisoned one was',
  },
  {
    file: 'scenarios/mf-index-equals-gfn.yaml',
    kernel: { error_handler: 'original-2023' },
    code: 'GMEM4007',
    what: 'original handler signals a task that does not map the page (index equal to the gfn)',
  },
  {
    file: 'scenarios/mf-vs-punch.yaml',
    kernel: { error_handler: 'mainline' },
    code: 'GMEM4008',
    what: 'mainline: memory failure holds the folio lock, punch-hole the invalidate lock: deadlock',
  },
];

export interface ScheduledRun {
  readonly status: ExecStatus;
  /** thread index per transition, as runExecution() records it */
  readonly schedule: number[];
  readonly violations: Violation[];
}

/**
 * One execution of `program` whose interleaving fast-check's scheduler `s` picks. A thread asks for its turn
 * (s.schedule) only while its next point is enabled; a blocked thread parks until another thread's transition
 * (the only way state changes). Stops as soon as `stopOn` is violated.
 */
export async function scheduledExecution(
  program: Program,
  s: fc.Scheduler,
  stopOn?: DiagnosticCode,
  maxDepth = DEFAULT_MAX_DEPTH,
): Promise<ScheduledRun> {
  const w = new World(program, false);
  const schedule: number[] = [];
  const violations: Violation[] = [];
  const seen = new Set<string>();
  let stop = false;
  const add = (v: Violation) => {
    const key = `${v.code}\u0000${v.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    violations.push(v);
    if (v.code === stopOn) stop = true;
  };
  const threadOf = (tid: number) => w.threadName(tid);
  let status: ExecStatus = 'complete';
  const parked: Array<(() => void) | null> = w.threads.map(() => null);
  const wakeAll = () => {
    parked.forEach((r, i) => {
      parked[i] = null;
      r?.();
    });
  };

  const thread = async (i: number) => {
    const t = w.threads[i];
    while (t.next !== null && !stop) {
      if (!w.enabled(i)) {
        await new Promise<void>((r) => {
          parked[i] = r;
        });
        continue;
      }
      await s.schedule(Promise.resolve(), `${t.spec.name}: ${describePoint(t.next)}`);
      // another thread may have run first and taken what this one needs
      if (stop || !w.enabled(i)) continue;
      if (schedule.length >= maxDepth) {
        status = 'bounded';
        add({ code: 'GMEM4011', message: `no thread finished within ${maxDepth} transitions` });
        stop = true;
        return;
      }
      const marks = marksOf(w.k);
      w.step(i);
      schedule.push(i);
      for (const v of newFacts(w.k, marks, threadOf)) add(v);
      for (const v of checkState(w.k)) add(v);
      wakeAll();
    }
  };
  void Promise.all(w.threads.map((_, i) => thread(i)));
  await s.waitIdle();
  if (stop) return { status, schedule, violations };
  if (!w.allDone()) {
    const edges = w.waitEdges();
    add({
      code: 'GMEM4008',
      message: `deadlock: ${edges.map((e) => `${e.waiter} waits for ${e.on} held by ${e.holders.join(', ') || 'nobody'}`).join('; ')}`,
    });
    return { status: 'deadlock', schedule, violations };
  }
  // everything finished: the quiescent checks, the threads' expectations and the `after` steps, as runExecution()
  if (finishExecution(w, add, threadOf).deadlocked) status = 'deadlock';
  return { status, schedule, violations };
}

export async function loadProgram(file: string, kernel: Partial<KernelOptions>): Promise<Program> {
  const path = isAbsolute(file) ? file : join(repo, file);
  return prepareProgram(loadScenario(file, await readFile(path, 'utf8')), kernel);
}

export interface FastCheckHunt {
  readonly found: boolean;
  /** runs fast-check made, the failing one included */
  readonly runs: number;
  /** wall clock of fc.check (the scenario's setup excluded) */
  readonly seconds: number;
  /** fast-check gave up at timeoutMs */
  readonly interrupted: boolean;
  /** the failing interleaving, as fast-check's scheduler reports it */
  readonly counterexample?: string;
}

/**
 * Runs fc.check over fc.scheduler() until an execution violates `code` (fast-check's counterexample), at most
 * `maxRuns` runs. No shrinking: fc.scheduler() does not shrink, and the clock stops at the first failure.
 */
export async function findWithFastCheck(
  file: string,
  kernel: Partial<KernelOptions>,
  code: string,
  opts: { seed: number; maxRuns: number; timeoutMs?: number },
): Promise<FastCheckHunt> {
  const program = await loadProgram(file, kernel);
  const target = code as DiagnosticCode;
  const prop = fc.asyncProperty(fc.scheduler(), async (s) => {
    const r = await scheduledExecution(program, s, target);
    return !r.violations.some((v) => v.code === target);
  });
  const t0 = performance.now();
  const out = await fc.check(prop, {
    seed: opts.seed,
    numRuns: opts.maxRuns,
    endOnFailure: true,
    ...(opts.timeoutMs !== undefined ? { interruptAfterTimeLimit: opts.timeoutMs, markInterruptAsFailure: false } : {}),
  });
  const seconds = (performance.now() - t0) / 1000;
  return {
    found: out.failed,
    runs: out.numRuns,
    seconds,
    interrupted: out.interrupted,
    ...(out.failed && out.counterexample ? { counterexample: String(out.counterexample[0]) } : {}),
  };
}
