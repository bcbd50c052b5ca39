// The long fuzzing job:  npm run fuzz -- --seconds 600 --seed N
//
// The parent process forks --jobs children that run the fuzzers in turn, chunk by chunk, each chunk a seeded
// fast-check run (shrinking included). A child writes the input it is about to try to a file first, so when a
// child dies (a V8 abort, an out-of-memory) or stops answering (an input that never finishes), the parent still
// knows the input, saves it, and starts a new child. Ctrl-C stops the children after their current chunk and
// prints what was found so far.
//
// Other modes:  --replay FILE...    runs corpus entries and prints what fails (exit status 1 if any does)
//               --check-corpus      replays every corpus entry in its own process, with the hang timeout
//               --oracle N          runs N seeded syscall sequences on the model and on a real kernel (--kernel)
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Found, KINDS, type Kind, listEntries, parseEntry, readEntry, saveEntry } from './corpus.js';
import { FUZZERS, newStats, runChunk, type Stats } from './fuzzers.js';
import { type Failure, normalize } from './harness.js';
import { KNOWN_FAILING, KNOWN_SIGNATURES } from './known-failing.js';
import { runOracleSample } from './oracle.js';

const SELF = import.meta.filename;

/** Inputs per chunk: about a second or two of work each, so a stop request is honoured quickly. */
const CHUNK: Readonly<Record<Kind, number>> = { language: 100, 'uapi-seq': 200, 'uapi-threads': 20 };

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    jobs: { type: 'string', default: '2' },
    fuzzers: { type: 'string', default: KINDS.join(',') },
    'hang-seconds': { type: 'string', default: '60' },
    'slow-seconds': { type: 'string', default: '10' },
    replay: { type: 'boolean', default: false },
    'check-corpus': { type: 'boolean', default: false },
    oracle: { type: 'string' },
    kernel: { type: 'string', default: '7.3.4' },
    child: { type: 'boolean', default: false },
    job: { type: 'string', default: '0' },
    current: { type: 'string' },
  },
});

const kinds = opt.fuzzers.split(',').map((k) => {
  if (!(KINDS as readonly string[]).includes(k))
    throw new Error(`--fuzzers: unknown fuzzer ${k} (${KINDS.join(', ')})`);
  return k as Kind;
});

const chunkSeed = (base: number, job: number, chunk: number) => (base * 1_000_003 + job * 7919 + chunk * 104_729) >>> 0;

// ------------------------------------------------------------------------------------------------ child

interface ChunkMsg {
  readonly t: 'chunk';
  readonly kind: Kind;
  readonly runs: number;
  readonly ms: number;
  readonly known: Array<[string, number]>;
  readonly executions: number;
  readonly findings: Array<[string, number]>;
  readonly found?: Found;
  readonly slow?: Found;
}

function child(): void {
  // Ctrl-C reaches the whole process group; the parent decides when children stop
  process.on('SIGINT', () => {});
  let stop = false;
  process.on('message', (m: { t: string }) => {
    if (m.t === 'stop') stop = true;
  });
  const base = Number(opt.seed);
  const job = Number(opt.job);
  const slowMs = Number(opt['slow-seconds']) * 1000;
  const currentFile = opt.current!;
  const loop = (c: number) => {
    if (stop) {
      process.disconnect?.();
      return;
    }
    const kind = kinds[c % kinds.length];
    const fz = FUZZERS[kind];
    const seed = chunkSeed(base, job, c);
    const stats: Stats = newStats();
    let index = 0;
    let slow: Found | undefined;
    // every input is recorded before it runs, for the parent's post-mortem of a crash or a hang
    const recorded = {
      ...fz,
      check(text: string, tally?: Stats['tally']): Failure | null {
        writeFileSync(currentFile, JSON.stringify({ kind, seed, index: index++, text }));
        const t0 = performance.now();
        const r = fz.check(text, tally);
        const ms = performance.now() - t0;
        if (!r && ms > slowMs && !slow) {
          slow = {
            kind,
            text,
            failure: { signature: `slow:${kind}`, message: `one input took ${(ms / 1000).toFixed(1)} s` },
            origin: `fuzz/run.ts seed ${base} job ${job} chunk ${c} (fast-check seed ${seed}), not shrunk`,
          };
        }
        return r;
      },
    };
    const t0 = performance.now();
    const r = runChunk(recorded, seed, CHUNK[kind], stats);
    const msg: ChunkMsg = {
      t: 'chunk',
      kind,
      runs: r.runs,
      ms: performance.now() - t0,
      known: [...stats.known],
      executions: stats.tally.executions,
      findings: [...stats.tally.findings],
      ...(r.found
        ? {
            found: {
              kind,
              text: r.found.text,
              failure: r.found.failure,
              origin: `fuzz/run.ts --seed ${base} job ${job} chunk ${c}: fast-check seed ${r.found.seed} path "${r.found.path}", then minimized`,
            },
          }
        : {}),
      ...(slow ? { slow } : {}),
    };
    process.send!(msg, () => setImmediate(() => loop(c + 1)));
  };
  loop(0);
}

// ------------------------------------------------------------------------------------------------ parent

interface KindStats {
  inputs: number;
  ms: number;
  failures: number;
  known: Map<string, number>;
}

/** Runs a check of `text` in a fresh process: what a crash or a hang does cannot harm the caller. */
function isolated(
  kind: Kind,
  text: string,
  timeoutS: number,
): { status: 'clean' | 'failed' | 'crashed' | 'hung'; out: string } {
  const file = join(tmpdir(), `gmemsim-fuzz-isolated-${process.pid}.json`);
  writeFileSync(file, JSON.stringify({ kind, text }));
  const r = spawnSync(process.execPath, [...process.execArgv, SELF, '--replay', '--current', file], {
    timeout: timeoutS * 1000,
    encoding: 'utf8',
    killSignal: 'SIGKILL',
  });
  rmSync(file, { force: true });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return { status: 'hung', out };
  if (r.status === 0) return { status: 'clean', out };
  if (r.status === 1) return { status: 'failed', out };
  return { status: 'crashed', out };
}

function parent(): void {
  const seconds = Number(opt.seconds);
  const base = opt.seed !== undefined ? Number(opt.seed) : Math.floor(Math.random() * 2 ** 31);
  const jobs = Math.max(1, Number(opt.jobs));
  const hangS = Number(opt['hang-seconds']);
  const started = Date.now();
  const stats = new Map<Kind, KindStats>(kinds.map((k) => [k, { inputs: 0, ms: 0, failures: 0, known: new Map() }]));
  const findings = new Map<string, number>();
  let executions = 0;
  const saved: Array<{ file: string; signature: string }> = [];
  // one entry per signature: what is in the corpus already is not saved again in this session
  const seen = new Set<string>([...listEntries().map((e) => e.signature), ...KNOWN_SIGNATURES]);
  let stopping = false;
  let restarts = 0;
  const children = new Map<
    number,
    { cp: ChildProcess; current: string; last: string; since: number; stderr: string }
  >();

  const record = (f: Found, verify: boolean) => {
    const st = stats.get(f.kind)!;
    st.failures++;
    if (seen.has(f.failure.signature)) return;
    seen.add(f.failure.signature);
    const fz = FUZZERS[f.kind];
    const file = saveEntry(f, (t) => !verify || fz.check(readBack(t, f.kind)) !== null);
    saved.push({ file, signature: f.failure.signature });
    process.stdout.write(
      `\n[fuzz] ${f.kind}: ${f.failure.signature}\n  ${f.failure.message.split('\n')[0].slice(0, 200)}\n  saved ${file}\n`,
    );
  };

  const start = (job: number) => {
    const current = join(tmpdir(), `gmemsim-fuzz-${process.pid}-${job}.json`);
    const seed = base + restarts * 7_777_777;
    const cp = fork(
      SELF,
      [
        '--child',
        '--job',
        String(job),
        '--seed',
        String(seed),
        '--fuzzers',
        kinds.join(','),
        '--current',
        current,
        '--slow-seconds',
        opt['slow-seconds'],
      ],
      {
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      },
    );
    const c = { cp, current, last: '', since: Date.now(), stderr: '' };
    children.set(job, c);
    cp.stderr!.on('data', (d: Buffer) => {
      c.stderr = (c.stderr + d.toString()).slice(-8000);
    });
    cp.on('message', (m: ChunkMsg) => {
      const st = stats.get(m.kind)!;
      st.inputs += m.runs;
      st.ms += m.ms;
      for (const [s, n] of m.known) st.known.set(s, (st.known.get(s) ?? 0) + n);
      executions += m.executions;
      for (const [code, n] of m.findings) findings.set(code, (findings.get(code) ?? 0) + n);
      if (m.found) record(m.found, true);
      if (m.slow) record(m.slow, false);
    });
    cp.on('exit', (code, signal) => {
      children.delete(job);
      if (!stopping || (code !== 0 && code !== null)) postMortem(c, `exit ${signal ?? code}`);
      if (!stopping) {
        restarts++;
        start(job);
      } else if (children.size === 0) finish();
    });
  };

  /** A child died or hung: the input it was running is the finding. */
  const postMortem = (c: { current: string; stderr: string }, how: string) => {
    if (!existsSync(c.current)) return;
    const cur = JSON.parse(readFileSync(c.current, 'utf8')) as {
      kind: Kind;
      seed: number;
      index: number;
      text: string;
    };
    rmSync(c.current, { force: true });
    const hung = how === 'hang';
    const firstErr = c.stderr.split('\n').find((l) => /error|abort|fatal/i.test(l)) ?? how;
    const signature = hung ? `hang:${cur.kind}` : `process-crash:${cur.kind}:${normalize(firstErr)}`;
    let text = cur.text;
    if (!hung) {
      // shrink in fresh processes: the input kills whoever checks it
      const fz = FUZZERS[cur.kind];
      text = fz.minimize(text, (t) => isolated(cur.kind, t, hangS).status === 'crashed');
    }
    record(
      {
        kind: cur.kind,
        text,
        failure: { signature, message: `${how}: ${c.stderr.trim().split('\n').slice(-12).join(' | ').slice(0, 1500)}` },
        origin: `fuzz/run.ts --seed ${base}: fast-check seed ${cur.seed}, input #${cur.index} of its chunk${hung ? `, no answer within ${hangS} s` : ''}`,
      },
      false,
    );
  };

  const watchdog = setInterval(() => {
    for (const c of children.values()) {
      let now = '';
      try {
        const cur = JSON.parse(readFileSync(c.current, 'utf8')) as { seed: number; index: number };
        now = `${cur.seed}:${cur.index}`;
      } catch {
        continue;
      }
      if (now !== c.last) {
        c.last = now;
        c.since = Date.now();
      } else if (Date.now() - c.since > hangS * 1000) {
        postMortem(c, 'hang');
        c.since = Date.now();
        c.cp.kill('SIGKILL');
      }
    }
    if (!stopping && Date.now() - started > seconds * 1000) stop('time is up');
  }, 1000);

  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n[fuzz] stopping: ${why}\n`);
    for (const c of children.values()) c.cp.send({ t: 'stop' });
    setTimeout(() => {
      for (const c of children.values()) c.cp.kill('SIGKILL');
    }, 30_000).unref();
  };

  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearInterval(watchdog);
    const secs = (Date.now() - started) / 1000;
    const out: string[] = [
      `\nfuzz: ${secs.toFixed(0)} s, --seed ${base}, ${jobs} job(s), ${restarts} child restart(s)`,
    ];
    out.push(
      `${'fuzzer'.padEnd(14)}${'inputs'.padStart(10)}${'inputs/s'.padStart(10)}${'failures'.padStart(10)}${'known'.padStart(8)}`,
    );
    for (const [k, st] of stats) {
      const known = [...st.known.values()].reduce((a, b) => a + b, 0);
      // inputs/s per job: the chunk time of one child
      const rate = st.ms > 0 ? (st.inputs / (st.ms / 1000)).toFixed(0) : '-';
      out.push(
        `${k.padEnd(14)}${String(st.inputs).padStart(10)}${rate.padStart(10)}${String(st.failures).padStart(10)}${String(known).padStart(8)}`,
      );
      for (const [s, n] of st.known) out.push(`    known x${n}: ${s}`);
    }
    out.push(
      `explorer: ${executions} executions; kernel findings it reported (not fuzz failures): ${[...findings].map(([c, n]) => `${c} x${n}`).join(', ') || 'none'}`,
    );
    out.push(saved.length ? 'new corpus entries:' : 'no new corpus entries');
    for (const s of saved) out.push(`  ${s.file}  ${s.signature}`);
    const all = listEntries();
    out.push(
      `corpus: ${all.length} entries (${KINDS.map((k) => `${k} ${all.filter((e) => e.kind === k).length}`).join(', ')})`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
    process.exitCode = saved.length > 0 ? 1 : 0;
  };

  process.on('SIGINT', () => {
    if (stopping) {
      for (const c of children.values()) c.cp.kill('SIGKILL');
      finish();
      process.exit(130);
    }
    stop('interrupted (Ctrl-C again to quit at once)');
  });

  process.stdout.write(`fuzz: ${kinds.join(', ')} for ${seconds} s, --seed ${base}, ${jobs} job(s)\n`);
  for (let j = 0; j < jobs; j++) start(j);
}

/** The input a stored corpus text holds (a base64 envelope is decoded). */
const readBack = (stored: string, kind: Kind): string => parseEntry('', stored, kind).text;

// ------------------------------------------------------------------------------------------------ replay

function replay(): void {
  let failed = 0;
  const inputs: Array<{ name: string; kind: Kind; text: string }> = [];
  if (opt.current) {
    const { kind, text } = JSON.parse(readFileSync(opt.current, 'utf8')) as { kind: Kind; text: string };
    inputs.push({ name: opt.current, kind, text });
  }
  for (const f of positionals) {
    const e = readEntry(f);
    inputs.push({ name: f, kind: e.kind, text: e.text });
  }
  for (const i of inputs) {
    const f = FUZZERS[i.kind].check(i.text);
    if (!f) {
      process.stdout.write(`${i.name}: clean\n`);
      continue;
    }
    failed++;
    const known = KNOWN_SIGNATURES.has(f.signature) ? ' (known failing, see fuzz/known-failing.ts)' : '';
    process.stdout.write(`${i.name}: FAILS ${f.signature}${known}\n${f.message}\n${f.stack ?? ''}\n`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

function checkCorpus(): void {
  const hangS = Number(opt['hang-seconds']);
  let bad = 0;
  for (const e of listEntries()) {
    const known = KNOWN_FAILING.find((k) => k.file === e.file);
    const r = isolated(e.kind, e.text, hangS);
    const expected = known ? (e.signature.startsWith('hang:') ? 'hung' : 'failed') : 'clean';
    const ok = r.status === expected;
    if (!ok) bad++;
    process.stdout.write(`${ok ? 'ok  ' : 'BAD '} ${e.file}: ${r.status}${known ? ` (known: ${known.why})` : ''}\n`);
  }
  process.exitCode = bad > 0 ? 1 : 0;
}

if (opt.child) child();
else if (opt.replay) replay();
else if (opt['check-corpus']) checkCorpus();
else if (opt.oracle) process.exitCode = runOracleSample(Number(opt.seed ?? 1), Number(opt.oracle), opt.kernel);
else parent();
