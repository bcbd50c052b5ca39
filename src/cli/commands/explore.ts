// gmemsim explore FILE: every interleaving of the scenario's threads (or a sample of them), checked.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import pc from 'picocolors';
import { Piscina } from 'piscina';
import { GmemsimError } from '../../diagnostics/errors.js';
import { type ExploreCheckpoint, readCheckpoint, writeCheckpoint } from '../../engine/checkpoint.js';
import { renderColumns, renderCounterexample, replay } from '../../engine/counterexample.js';
import { Exploration, type ExploreOptions, type ExploreResult, type Strategy } from '../../engine/explore.js';
import { mergeResults } from '../../engine/merge.js';
import { exploreInParallel, type ParallelTaskResult } from '../../engine/parallel.js';
import { type Program, prepareProgram } from '../../engine/program.js';
import { decodeToken, tokenProblem } from '../../engine/token.js';
import type { DporTask } from '../../engine/worker.js';
import type { KernelOptions } from '../../kernel/options.js';
import { EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, readScenarioFile } from '../io.js';
import { type KernelOptionFlags, kernelOptionFlags, parseKernelOptions, usageError } from '../options.js';

export interface ExploreFlags extends KernelOptionFlags {
  strategy?: Strategy;
  seed?: string;
  maxExecutions?: string;
  maxSeconds?: string;
  preemptionBound?: string;
  pctDepth?: string;
  workers?: string;
  shard?: string;
  json?: boolean;
  shrink: boolean;
  progress: boolean;
  maxMemory?: string;
  countTraces?: boolean;
  checkpoint?: string;
  checkpointEvery?: string;
  resume?: string;
}

function int(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw usageError(`--${name} takes a whole number >= ${min}, not "${v}"`);
  return n;
}

export function parseShard(v: string | undefined): { index: number; count: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]))
    throw usageError(`--shard takes i/N with 0 <= i < N, not "${v}"`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

export function exploreOptions(f: ExploreFlags): ExploreOptions {
  const strategy = f.strategy ?? 'dfs';
  if (!['dfs', 'naive', 'random', 'pct'].includes(strategy))
    throw usageError(`--strategy is dfs, naive, random or pct, not "${strategy}"`);
  return {
    strategy,
    seed: int('seed', f.seed),
    maxExecutions: int('max-executions', f.maxExecutions, 1),
    maxSeconds: int('max-seconds', f.maxSeconds, 1),
    preemptionBound: int('preemption-bound', f.preemptionBound),
    pctDepth: int('pct-depth', f.pctDepth, 1),
    shard: parseShard(f.shard),
    shrink: f.shrink,
    maxMemoryMb: int('max-memory', f.maxMemory, 1),
    countTraces: f.countTraces,
  };
}

export function addExploreFlags(cmd: Command): Command {
  return kernelOptionFlags(cmd)
    .option('--strategy <name>', 'dfs (exhaustive, with DPOR), naive (exhaustive, no reduction), random or pct', 'dfs')
    .option('--seed <n>', 'seed for random and pct')
    .option('--max-executions <n>', 'stop after this many executions')
    .option('--max-seconds <n>', 'stop after this many seconds')
    .option('--max-memory <MiB>', 'stop when the resident memory passes this many MiB')
    .option('--count-traces', 'also count the distinct Mazurkiewicz traces (dfs, naive)')
    .option('--preemption-bound <n>', 'only schedules with at most this many preemptions')
    .option('--pct-depth <d>', 'PCT bug depth', '3')
    .option('--no-shrink', 'report counterexamples as found, without shrinking them');
}

/** Explores in slices of 50 ms, giving the event loop its turn in between so Ctrl-C is seen at once. */
export async function exploreInSlices(p: Program, o: ExploreOptions): Promise<ExploreResult> {
  const e = new Exploration(p, o);
  while (!e.run(50)) await new Promise((resolve) => setImmediate(resolve));
  return e.result();
}

/** Runs the parallel DPOR search (engine/parallel.ts) on worker threads. */
async function exploreOnWorkers(
  file: string,
  p: Program,
  kernel: Partial<KernelOptions>,
  eo: ExploreOptions,
  workers: number,
  stop: Int32Array,
): Promise<ExploreResult> {
  const pool = new Piscina({
    filename: fileURLToPath(new URL('../../engine/worker.js', import.meta.url)),
    maxThreads: workers,
    minThreads: workers,
  });
  const text = readFileSync(file, 'utf8');
  const { onProgress: _p, shouldStop: _s, ...rest } = eo;
  const stopped = () => (Atomics.load(stop, 0) ? 'interrupted (SIGINT): results so far' : undefined);
  try {
    return await exploreInParallel(p, { ...eo, shouldStop: stopped }, (task) => {
      const t: DporTask = { file, text, kernel, explore: rest, stop: stop.buffer as SharedArrayBuffer, task };
      return pool.run(t, { name: 'exploreTask' }) as Promise<ParallelTaskResult>;
    });
  } finally {
    await pool.destroy();
  }
}

export function renderExplore(p: Program, r: ExploreResult, color: boolean): string {
  const c = pc.createColors(color);
  const lines = [
    c.bold(`${r.scenario}`) +
      c.dim(`  (mm: ${r.options.mm}, error_handler: ${r.options.error_handler}, strategy: ${r.strategy})`),
    `executions: ${r.executions}   pruned: ${r.pruned}${r.traces !== undefined ? `   Mazurkiewicz traces: ${r.traces}` : ''}   distinct outcomes: ${r.outcomes.length}   transitions: ${r.transitions}   time: ${r.seconds.toFixed(2)}s   ${r.complete ? c.green('complete') : c.yellow('not complete')}`,
  ];
  if (r.interrupted) lines.push(c.yellow(`interrupted: ${r.interrupted}`));
  lines.push('', c.bold('outcomes'));
  for (const o of r.outcomes) {
    lines.push(
      `  ${String(o.count).padStart(6)} × ${Object.entries(o.threads)
        .map(([t, rs]) => `${t}: ${rs.join('; ') || '—'}`)
        .join('  |  ')}`,
    );
  }
  lines.push('');
  if (r.violations.length === 0) lines.push(c.green('no property violated'));
  for (const v of r.violations) {
    const d = decodeToken(v.token);
    lines.push(c.red(c.bold(`violation ${v.code}: ${v.title}`)));
    lines.push(d ? renderCounterexample(p, v, d.schedule) : `  ${v.message}\n  token ${v.token}`);
  }
  return lines.join('\n');
}

export function registerExplore(program: Command, color: () => boolean): void {
  addExploreFlags(
    program
      .command('explore')
      .description("explore every interleaving of a scenario's threads, checking the properties")
      .argument('<file>', 'scenario with `threads:`')
      .option('--workers <n>', 'explore in parallel on this many worker threads')
      .option('--shard <i/N>', 'explore only shard i of N (merge the JSON results with `gmemsim merge`)')
      .option('--json', 'print the result as one JSON object')
      .option('--no-progress', 'no progress bar on stderr')
      .option('--checkpoint <file>', 'save the search position to FILE every few seconds and when stopped early')
      .option('--checkpoint-every <seconds>', 'how often --checkpoint writes', '5')
      .option('--resume <file>', 'continue the search saved in a checkpoint'),
  ).action(async (file: string, f: ExploreFlags) => {
    let stopReason: string | undefined;
    // worker threads poll this flag: they cannot see the main thread's variables
    const stopFlag = new Int32Array(new SharedArrayBuffer(4));
    const onSigint = () => {
      if (stopReason) process.exit(130);
      stopReason = 'interrupted (SIGINT): results so far';
      Atomics.store(stopFlag, 0, 1);
    };
    // first of all: a Ctrl-C during the setup must not kill the process either
    process.on('SIGINT', onSigint);
    const scenario = readScenarioFile(file);
    const kernel = parseKernelOptions(f);
    const p = prepareProgram(scenario, kernel);
    const eo = exploreOptions(f);
    const workers = int('workers', f.workers, 1) ?? 1;
    if (workers > 1 && eo.shard) throw usageError('--workers and --shard do not combine: each shard is one process');
    if (workers > 1 && ((eo.strategy ?? 'dfs') !== 'dfs' || eo.preemptionBound !== undefined)) {
      throw usageError('--workers parallelises the exhaustive search: --strategy dfs without --preemption-bound');
    }
    if (workers > 1 && (f.checkpoint || f.resume)) {
      throw usageError('--checkpoint and --resume work on one process: use --shard i/N for parallel runs');
    }
    const resume = f.resume ? readCheckpoint(f.resume) : undefined;
    const checkpointFile = f.checkpoint;
    const checkpointSeconds = int('checkpoint-every', f.checkpointEvery, 1);
    const bar =
      f.progress && process.stderr.isTTY && workers === 1
        ? new cliProgress.SingleBar(
            {
              format: 'exploring |{bar}| {value} executions, {violations} violation(s), {duration}s',
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
    bar?.start(eo.maxExecutions ?? 1_000_000, 0, { violations: 0 });
    let r: ExploreResult;
    try {
      r =
        workers > 1
          ? await exploreOnWorkers(file, p, kernel, eo, Math.min(workers, availableParallelism() * 4), stopFlag)
          : await exploreInSlices(p, {
              ...eo,
              onProgress: (pr) => bar?.update(pr.executions, { violations: pr.violations }),
              shouldStop: () => stopReason,
              resume,
              checkpointSeconds,
              ...(checkpointFile
                ? { onCheckpoint: (cp: ExploreCheckpoint) => writeCheckpoint(checkpointFile, cp) }
                : {}),
            });
    } finally {
      bar?.stop();
      process.off('SIGINT', onSigint);
    }
    process.stdout.write(f.json ? `${JSON.stringify(r)}\n` : `${renderExplore(p, r, color())}\n`);
    // a violation is the answer whether or not the search finished; an interrupted clean search is no answer
    process.exitCode = r.violations.length ? EXIT_FAIL : stopReason ? EXIT_INTERRUPTED : EXIT_OK;
  });

  kernelOptionFlags(
    program
      .command('replay')
      .description('replay the schedule of a token exactly, with its trace')
      .argument('<file>', 'the scenario the token came from')
      .argument('<token>', 'replay token printed by explore or variants')
      .option('--json', 'print the replayed execution as JSON (steps and violations)'),
  ).action((file: string, token: string, f: KernelOptionFlags & { json?: boolean }) => {
    const p = prepareProgram(readScenarioFile(file), parseKernelOptions(f));
    replayCommand(p, token, f.json ?? false, color());
  });

  program
    .command('merge')
    .description('combine the JSON results of explore shards')
    .argument('<files...>', 'results of `gmemsim explore --shard i/N --json`')
    .option('--json', 'print the merged result as JSON')
    .action((files: string[], f: { json?: boolean }) => {
      const parts = files.map((x) => JSON.parse(readFileSync(x, 'utf8')) as ExploreResult);
      const m = mergeResults(parts);
      if (f.json) process.stdout.write(`${JSON.stringify(m)}\n`);
      else {
        const p = prepareProgram(readScenarioFile(m.file), m.options);
        process.stdout.write(`${renderExplore(p, m, color())}\n`);
      }
      process.exitCode = m.violations.length ? EXIT_FAIL : EXIT_OK;
    });
}

function replayCommand(p: Program, token: string, json: boolean, color: boolean): void {
  const problem = tokenProblem(p, token);
  if (problem) throw new GmemsimError({ code: 'GMEM2003', message: problem });
  const d = decodeToken(token)!;
  const r = replay(p, d.schedule);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ status: r.status, steps: [...r.threadResults.flat(), ...r.afterResults], violations: r.violations })}\n`,
    );
  } else {
    const c = pc.createColors(color);
    process.stdout.write(`${renderColumns(p, r.world.tr.events)}\n\n`);
    for (const v of r.violations) process.stdout.write(`${c.red(`${v.code}: ${v.message}`)}\n`);
    if (r.violations.length === 0) process.stdout.write(`${c.green('no property violated in this execution')}\n`);
  }
  process.exitCode = r.violations.length ? EXIT_FAIL : EXIT_OK;
}
