// Measuring: repeated samples summarised as min/median/max, child processes with their peak memory, and the
// machine the numbers came from.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
export const BIN = join(REPO, 'bin', 'gmemsim.js');
const RSS_PROBE = join(REPO, 'bench', 'rss-probe.mjs');

export interface Summary {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly samples: number;
}

export function summarize(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1], samples: s.length };
}

/** Runs fn `repeat` times and summarises what it returns. */
export function sample(repeat: number, fn: () => number): Summary {
  return summarize(Array.from({ length: repeat }, fn));
}

export async function sampleAsync(repeat: number, fn: () => Promise<number>): Promise<Summary> {
  const xs: number[] = [];
  for (let i = 0; i < repeat; i++) xs.push(await fn());
  return summarize(xs);
}

/** `gmemsim ARGS --json` in a child process, without blocking this one (to run several at once). */
export function gmemsimJsonAsync<T>(args: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--json'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (code) => {
      if (code === 0 || code === 1) resolve(JSON.parse(out) as T);
      else reject(new Error(`gmemsim ${args.join(' ')} exited with ${code}: ${err.trim()}`));
    });
  });
}

export interface ChildRun<T> {
  readonly json: T;
  readonly seconds: number;
  /** the child's peak resident set, MiB (getrusage maxrss) */
  readonly peakRssMb: number;
}

/** Runs `gmemsim ARGS --json` in a child process and reads its peak RSS through bench/rss-probe.mjs. */
export function gmemsimJson<T>(args: readonly string[]): ChildRun<T> {
  const dir = mkdtempSync(join(tmpdir(), 'gmemsim-bench-'));
  const rssFile = join(dir, 'rss');
  try {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', RSS_PROBE, BIN, ...args, '--json'], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, GMEMSIM_BENCH_RSS: rssFile },
      maxBuffer: 256 << 20,
    });
    const seconds = (performance.now() - t0) / 1000;
    // exit 1 means violations were found, which several cases expect; anything else is a failed measurement
    if (r.status !== 0 && r.status !== 1) {
      throw new Error(`gmemsim ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.trim()}`);
    }
    return { json: JSON.parse(r.stdout) as T, seconds, peakRssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function firstLine(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')[0]
      .trim();
  } catch {
    return null;
  }
}

export function machine() {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const fc = JSON.parse(readFileSync(join(REPO, 'node_modules', 'fast-check', 'package.json'), 'utf8')) as {
    version: string;
  };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
    versions: {
      gmemsim: pkg.version,
      node: process.version,
      fastCheck: fc.version,
      spin: firstLine('spin', ['-V']),
      gcc: firstLine('gcc', ['--version']),
    },
  };
}
