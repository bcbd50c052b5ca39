// Peer baseline: Spin on Promela models of the seed race scenarios (bench/peers/spin/models, see README.md).
// runSpin() generates the verifier (spin -a), compiles it with gcc and runs an exhaustive safety search in a
// temporary directory, then parses pan's report. Without spin or gcc it says so instead of failing.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DiagnosticCode } from '../../../src/diagnostics/codes.js';
import type { ErrorHandlerVariant } from '../../../src/kernel/options.js';

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');

export interface SpinModel {
  /** "fault-vs-mf", or "fault-vs-mf:rfc-2023" for a rejected handler variant */
  readonly name: string;
  /** the Promela file, relative to bench/peers/spin/models */
  readonly file: string;
  /** the gmemsim scenario it mirrors (absolute path) */
  readonly scenario: string;
  readonly errorHandler: ErrorHandlerVariant;
  /** preprocessor definitions for spin (-D) */
  readonly defines: readonly string[];
  /** scenario thread names, in the order the model starts its processes */
  readonly threads: readonly string[];
  /** Spin's _pid of the first thread (init is 0, then the active proctypes, then the threads init runs) */
  readonly firstPid: number;
  /** what the explorer reports violated (docs/variants.md), restricted to the properties the model asserts */
  readonly violates: readonly DiagnosticCode[];
}

const HANDLER_MACRO: Record<ErrorHandlerVariant, string> = {
  mainline: 'H_MAINLINE',
  'original-2023': 'H_ORIGINAL',
  'rfc-2023': 'H_RFC',
  truncate: 'H_TRUNCATE',
};

function model(
  scenario: string,
  handler: ErrorHandlerVariant,
  threads: string[],
  violates: DiagnosticCode[],
): SpinModel {
  return {
    name: handler === 'mainline' ? scenario : `${scenario}:${handler}`,
    file: `${scenario}.pml`,
    scenario: join(repo, 'scenarios', `${scenario}.yaml`),
    errorHandler: handler,
    defines: [`HANDLER=${HANDLER_MACRO[handler]}`],
    threads,
    firstPid: scenario === 'fault-vs-mf' ? 2 : 1, // fault-vs-mf has the `after` process
    violates,
  };
}

/** The seed race scenarios under each error handler that changes them (punch-vs-fault does not call one). */
export const SPIN_MODELS: readonly SpinModel[] = [
  model('fault-vs-mf', 'mainline', ['vcpu0', 'mf'], []),
  model('fault-vs-mf', 'original-2023', ['vcpu0', 'mf'], ['GMEM4001']),
  model('fault-vs-mf', 'rfc-2023', ['vcpu0', 'mf'], ['GMEM4001']),
  model('fault-vs-mf', 'truncate', ['vcpu0', 'mf'], ['GMEM4002']),
  model('mf-vs-punch', 'mainline', ['mf', 'vmm'], ['GMEM4008']),
  model('mf-vs-punch', 'original-2023', ['mf', 'vmm'], ['GMEM4001', 'GMEM4008']),
  model('mf-vs-punch', 'rfc-2023', ['mf', 'vmm'], ['GMEM4001', 'GMEM4008']),
  model('mf-vs-punch', 'truncate', ['mf', 'vmm'], ['GMEM4008']),
  model('punch-vs-fault', 'mainline', ['vcpu0', 'vmm'], []),
];

export function spinModelPath(m: SpinModel): string {
  return join(here, 'models', m.file);
}

export interface SpinOptions {
  /** kill pan after this long (the result then has complete: false) */
  readonly timeoutMs?: number;
  /** stop at the first violation, as a bug hunt would (default: search everything and count them) */
  readonly stopAtFirstError?: boolean;
  /** no partial-order reduction: the full interleaving graph (default: Spin's POR, as gmemsim uses DPOR) */
  readonly noReduce?: boolean;
  /** also assert on WARN_ON/KVM_BUG_ON (GMEM4009) and the vCPU livelock bound (GMEM4011) */
  readonly strict?: boolean;
  /** pan's search depth bound (-m; default 100000, far above these models' depth of a few hundred) */
  readonly depth?: number;
  /** log2 of pan's hash table slots (-w; default 20). pan allocates it up front: -w24 alone costs ~0.5 s */
  readonly hashBits?: number;
}

export interface SpinRun {
  readonly model: string;
  readonly available: true;
  /** wall clock of the search, from spawning pan to its exit */
  readonly seconds: number;
  /** spin -a plus gcc */
  readonly compileSeconds: number;
  /** pan's own measure of the search */
  readonly panSeconds: number;
  readonly states: number;
  readonly transitions: number;
  readonly memoryMb: number;
  readonly errors: number;
  /** distinct violations pan printed ("assertion violated ...", "invalid end state") */
  readonly messages: string[];
  readonly depth: number;
  readonly stateVectorBytes: number;
  /** the whole space was searched: no timeout, no stop at an error, no depth truncation */
  readonly complete: boolean;
}

export type SpinResult = SpinRun | { readonly model: string; readonly available: false; readonly reason: string };

/** Why Spin cannot run here, or null when spin and gcc are both usable. */
export async function spinUnavailable(): Promise<string | null> {
  for (const [cmd, arg] of [
    ['spin', '-V'],
    ['gcc', '--version'],
  ] as const) {
    try {
      await exec(cmd, [arg]);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT'
        ? `${cmd} is not installed (Debian: apt-get install -y ${cmd === 'spin' ? 'spin' : 'gcc'})`
        : `${cmd} ${arg} failed: ${(e as Error).message}`;
    }
  }
  return null;
}

function num(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** Parses pan's report. */
export function parsePan(out: string): Omit<
  SpinRun,
  'model' | 'available' | 'seconds' | 'compileSeconds' | 'complete'
> & {
  truncated: boolean;
} {
  const messages = [
    ...new Set(
      out
        .split('\n')
        .map((l) => /^pan:\d+: (.*?)(?: \(at depth \d+\))?$/.exec(l)?.[1])
        .filter((m): m is string => m !== undefined),
    ),
  ];
  return {
    states: num(out, /(\d+) states, stored/),
    transitions: num(out, /(\d+) transitions \(= stored\+matched\)/),
    memoryMb: num(out, /([\d.]+)\s+total actual memory usage/),
    errors: num(out, /errors: (\d+)/),
    messages,
    depth: num(out, /depth reached (\d+)/),
    stateVectorBytes: num(out, /State-vector (\d+) byte/),
    panSeconds: num(out, /pan: elapsed time ([\d.e+-]+) seconds/),
    truncated: /max search depth too small/.test(out),
  };
}

function waitExit(p: ChildProcess): Promise<number | null> {
  return new Promise((res, rej) => {
    p.on('error', rej);
    p.on('close', (code) => res(code));
  });
}

/**
 * Verifies one model of SPIN_MODELS (by name) exhaustively: assertions (GMEM4001/4002/4003) and invalid end
 * states (GMEM4008).
 */
export async function runSpin(name: string, opts: SpinOptions = {}): Promise<SpinResult> {
  const m = SPIN_MODELS.find((x) => x.name === name);
  if (!m) throw new Error(`unknown Spin model ${name}; one of: ${SPIN_MODELS.map((x) => x.name).join(', ')}`);
  const why = await spinUnavailable();
  if (why) return { model: name, available: false, reason: why };
  const dir = await mkdtemp(join(tmpdir(), 'gmemsim-spin-'));
  try {
    const defines = [...m.defines, ...(opts.strict ? ['CHECK_WARN', 'CHECK_LIVELOCK'] : [])].map((d) => `-D${d}`);
    const t0 = performance.now();
    // -o3: no statement merging, so every atomic step of the model stays one transition (see README)
    await exec('spin', ['-o3', ...defines, '-a', spinModelPath(m)], { cwd: dir });
    const cflags = ['-O2', '-DSAFETY', '-DVECTORSZ=1024', ...(opts.noReduce ? ['-DNOREDUCE'] : [])];
    await exec('gcc', [...cflags, '-o', 'pan', 'pan.c'], { cwd: dir });
    const compileSeconds = (performance.now() - t0) / 1000;
    const args = [
      `-m${opts.depth ?? 100_000}`,
      `-w${opts.hashBits ?? 20}`,
      opts.stopAtFirstError ? '-c1' : '-c0',
      '-n',
    ];
    let timedOut = false;
    let out = '';
    const t1 = performance.now();
    const pan = spawn(join(dir, 'pan'), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    pan.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    pan.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    // SIGINT makes pan print its statistics before it stops
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          pan.kill('SIGINT');
        }, opts.timeoutMs)
      : undefined;
    await waitExit(pan);
    clearTimeout(timer);
    const seconds = (performance.now() - t1) / 1000;
    const r = parsePan(out);
    if (Number.isNaN(r.states)) throw new Error(`cannot parse pan's output for ${name}:\n${out}`);
    const { truncated, ...rest } = r;
    return {
      model: name,
      available: true,
      seconds,
      compileSeconds,
      ...rest,
      complete: !timedOut && !truncated && !(opts.stopAtFirstError && r.errors > 0),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
