// Cross-checks each Promela model against the TypeScript model it mirrors, point by point.
//
// 1. Replay: every execution the explorer runs (exhaustive DPOR) is replayed in Spin with the same schedule
//    (-DREPLAY: each step waits for its turn): the interleaved sequence of point names must be identical, and so
//    must the verdicts on GMEM4001/4002/4003 and on deadlock (GMEM4008).
// 2. Random simulations: every thread's sequence of points in Spin's random runs must be one the explorer
//    produced (DPOR reaches every Mazurkiewicz trace, so it sees every per-thread path).
//
//   npx tsx bench/peers/spin/crosscheck.ts [MODEL...] [--runs N] [--replays N]
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Dpor } from '../../../src/engine/dpor.js';
import { runExecution } from '../../../src/engine/execution.js';
import { prepareProgram } from '../../../src/engine/program.js';
import { describePoint } from '../../../src/kernel/core/sched.js';
import { loadScenario } from '../../../src/scenario/load.js';
import { SPIN_MODELS, type SpinModel, spinModelPath } from './run.js';

const run = promisify(execFile);
const CHECKED = new Set(['GMEM4001', 'GMEM4002', 'GMEM4003', 'GMEM4008']);

/** A point as the Promela STEP() names it: object kinds without ids, folios by order of appearance. */
export function normalizePoint(desc: string, folioId: (pfn: number) => number): string {
  if (desc.includes('retrying its fault')) return 'WAIT';
  if (desc.includes('TLB flush waiting')) return 'WAIT tlb';
  const lock = /^(shared )?(acquire|release) of (.*)$/.exec(desc);
  if (lock) {
    const verb = lock[2] === 'acquire' ? (lock[1] ? 'acqS' : 'acq') : 'rel';
    const name = lock[3];
    const folio = /^folio_lock\(pfn ([0-9a-f]+)\)$/.exec(name);
    if (folio) return `${verb} folio#${folioId(Number.parseInt(folio[1], 16))}`;
    if (/^vcpu\d+->mutex$/.test(name)) return `${verb} vmutex`;
    if (/->mmu_lock$/.test(name)) return `${verb} mmu`;
    if (/->mmap_lock$/.test(name)) return `${verb} mmap`;
    if (/->invalidate_lock$/.test(name)) return `${verb} inv`;
    return `${verb} ${name}`;
  }
  const acc = /^(read|write) of ([a-z_]+)(?::(\d+))?(?::(data|ref))?/.exec(desc);
  if (!acc) return desc;
  const verb = acc[1] === 'read' ? 'r' : 'w';
  // "folio:PFN:data" is the frame's contents, "folio:PFN:ref" its reference count
  const kind = acc[4] ?? acc[2];
  if (kind !== acc[2] || (kind === 'folio' && acc[3])) return `${verb} ${kind}#${folioId(Number(acc[3]))}`;
  return `${verb} ${kind}`;
}

interface TsExecution {
  /** (thread index, point name) per transition */
  readonly steps: Array<readonly [number, string]>;
  /** violated properties the Promela model checks */
  readonly codes: string[];
}

/** Every execution of an exhaustive DPOR exploration of the model's scenario (pruned ones left out). */
export function tsExecutions(m: SpinModel): TsExecution[] {
  const p = prepareProgram(loadScenario(m.scenario, readFileSync(m.scenario, 'utf8')), {
    error_handler: m.errorHandler,
  });
  // folio ids as in the Promela models: the setup's folio at index 1 is #1, later allocations #2, #3, ...
  const first = [...p.snapshot.mem.values()].find((f) => f.index === 1 && f.mapping)!;
  const firstNew = p.snapshot.ids.pfn;
  const folioId = (pfn: number) => (pfn === first.pfn ? 1 : pfn - firstNew + 2);
  const out: TsExecution[] = [];
  const dpor = new Dpor(p.threads.length, { reduce: true });
  for (;;) {
    const { choose, beforeStep } = dpor.nextExecution();
    const steps: Array<readonly [number, string]> = [];
    const r = runExecution(p, choose, {
      beforeStep: (w, d, t, pt) => {
        beforeStep?.(w, d, t, pt);
        steps.push([t, normalizePoint(describePoint(pt), folioId)]);
      },
    });
    if (r.status !== 'pruned') {
      const codes = [...new Set(r.violations.map((v) => v.code as string).filter((c) => CHECKED.has(c)))].sort();
      out.push({ steps, codes });
    }
    if (!dpor.finish(r)) break;
  }
  return out;
}

interface SpinTrace {
  readonly steps: Array<readonly [number, string]>;
  readonly codes: string[];
}

/** Parses a -DTRACE simulation: "@PID name" per step, "@@ CODE" per property verdict, "timeout" at a deadlock. */
function parseTrace(m: SpinModel, stdout: string): SpinTrace {
  const steps: Array<readonly [number, string]> = [];
  const codes = new Set<string>();
  for (const line of stdout.split('\n')) {
    const v = /^\s*@@\s*(GMEM\d+)/.exec(line);
    if (v) {
      codes.add(v[1]);
      continue;
    }
    const s = /^\s*@(\d+)\s+(.*?)\s*$/.exec(line);
    if (s) steps.push([Number(s[1]) - m.firstPid, s[2].replace(/\s*#/, '#').replace(/\s+/g, ' ')]);
    else if (/^\s*timeout\s*$/.test(line)) codes.add('GMEM4008');
  }
  return { steps, codes: [...codes].sort() };
}

async function simulate(m: SpinModel, dir: string, extra: string[]): Promise<string> {
  const args = ['-T', '-DTRACE', ...m.defines.map((d) => `-D${d}`), ...extra, join(dir, m.file)];
  try {
    return (await run('spin', args, { cwd: dir, maxBuffer: 1 << 26 })).stdout;
  } catch (e) {
    // spin exits 1 after an assertion; its output is still the trace
    const out = (e as { stdout?: string }).stdout;
    if (out) return out;
    throw e;
  }
}

async function pool<T>(items: T[], n: number, f: (t: T, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, w) => {
      while (next < items.length) await f(items[next++], w);
    }),
  );
}

export interface CrosscheckReport {
  readonly model: string;
  readonly executions: number;
  readonly replayed: number;
  readonly replayMismatches: string[];
  /** per thread: explorer paths, of them seen in random simulations, and simulated paths the explorer never ran */
  readonly threads: Array<{ thread: string; explorer: number; covered: number; unknown: string[] }>;
}

/**
 * Replays at most `maxReplays` of the explorer's executions (every violating one first, then evenly spread over
 * the rest) and runs `runs` random simulations.
 */
export async function crosscheck(m: SpinModel, runs: number, maxReplays = 400, workers = 8): Promise<CrosscheckReport> {
  const execs = tsExecutions(m);
  const bad = execs.filter((e) => e.codes.length > 0);
  const good = execs.filter((e) => e.codes.length === 0);
  const room = Math.max(0, maxReplays - Math.min(bad.length, maxReplays));
  const picked = [
    ...bad.slice(0, maxReplays),
    ...good
      .filter((_, i) => good.length <= room || i % Math.ceil(good.length / Math.max(1, room)) === 0)
      .slice(0, room),
  ];
  const dirs = await Promise.all(Array.from({ length: workers }, () => mkdtemp(join(tmpdir(), 'gmemsim-xcheck-'))));
  try {
    for (const d of dirs) await cp(join(spinModelPath(m), '..'), d, { recursive: true });
    const mismatches: string[] = [];
    await pool(
      picked.map((e, i) => [e, i] as const),
      workers,
      async ([e, i], w) => {
        const sched = e.steps.map(([t], k) => `sched[${k}] = ${t + m.firstPid};`).join('\n');
        await writeFile(join(dirs[w], 'sched.pml'), `${sched}\n`);
        const sp = parseTrace(m, await simulate(m, dirs[w], [`-DREPLAY=${e.steps.length}`]));
        const a = e.steps.map(([t, s]) => `${m.threads[t]}: ${s}`);
        const b = sp.steps.map(([t, s]) => `${m.threads[t] ?? `pid+${t}`}: ${s}`);
        const k = a.findIndex((x, j) => x !== b[j]);
        if (k >= 0 || a.length !== b.length) {
          const at = k >= 0 ? k : Math.min(a.length, b.length);
          mismatches.push(`execution ${i}, step ${at}: explorer "${a[at] ?? '(end)'}", Spin "${b[at] ?? '(end)'}"`);
        } else if (e.codes.join() !== sp.codes.join()) {
          mismatches.push(`execution ${i}: explorer violates [${e.codes}], Spin [${sp.codes}]`);
        }
      },
    );
    const known = m.threads.map((_, t) => new Set(execs.map((e) => pathOf(e.steps, t))));
    const seen = m.threads.map(() => new Set<string>());
    await pool(
      Array.from({ length: runs }, (_, i) => i + 1),
      workers,
      async (seed, w) => {
        // REPLAY=0: no schedule, but properties print instead of stopping the run, as the explorer goes on
        await writeFile(join(dirs[w], 'sched.pml'), '');
        const sp = parseTrace(m, await simulate(m, dirs[w], ['-DREPLAY=0', `-n${seed}`]));
        m.threads.forEach((_, t) => {
          seen[t].add(pathOf(sp.steps, t));
        });
      },
    );
    return {
      model: m.name,
      executions: execs.length,
      replayed: picked.length,
      replayMismatches: mismatches,
      threads: m.threads.map((thread, t) => ({
        thread,
        explorer: known[t].size,
        covered: [...known[t]].filter((s) => seen[t].has(s)).length,
        unknown: [...seen[t]].filter((s) => !known[t].has(s)),
      })),
    };
  } finally {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

function pathOf(steps: Array<readonly [number, string]>, t: number): string {
  return steps
    .filter(([x]) => x === t)
    .map(([, s]) => s)
    .join(' ; ');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const ri = args.indexOf('--runs');
  const runs = ri >= 0 ? Number(args.splice(ri, 2)[1]) : 200;
  const pi = args.indexOf('--replays');
  const replays = pi >= 0 ? Number(args.splice(pi, 2)[1]) : 400;
  const models = args.length ? SPIN_MODELS.filter((m) => args.includes(m.name)) : SPIN_MODELS;
  let bad = 0;
  for (const m of models) {
    const r = await crosscheck(m, runs, replays);
    console.log(
      `${m.name}: ${r.replayed} of the explorer's ${r.executions} executions replayed, ${r.replayMismatches.length} mismatches`,
    );
    for (const x of r.replayMismatches.slice(0, 5)) console.log(`  ${x}`);
    for (const t of r.threads) {
      console.log(
        `  ${t.thread}: ${t.covered}/${t.explorer} explorer paths seen in ${runs} random runs, ${t.unknown.length} unknown`,
      );
      for (const u of t.unknown) console.log(`    UNKNOWN: ${u}`);
    }
    bad += r.replayMismatches.length + r.threads.reduce((n, t) => n + t.unknown.length, 0);
  }
  process.exitCode = bad ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
