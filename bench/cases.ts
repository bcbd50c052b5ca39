// The benchmark's cases. Exploration and parallel cases run the CLI in child processes (so peak memory is the
// search's own); simulation and the peers run in this process on the same model code.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { explore, type Strategy } from '../src/engine/explore.js';
import { prepareProgram } from '../src/engine/program.js';
import { type GuestAccessInput, loadScenario, runScenario, Session } from '../src/index.js';
import {
  type ChildRun,
  gmemsimJson,
  gmemsimJsonAsync,
  REPO,
  type Summary,
  sample,
  sampleAsync,
  summarize,
} from './measure.js';
import { DEFECTS, findWithFastCheck } from './peers/fast-check/harness.js';
import { runSpin, SPIN_MODELS, spinUnavailable } from './peers/spin/run.js';

export interface BenchConfig {
  readonly quick: boolean;
  readonly repeat: number;
  /** per exploration run, seconds (scenarios that do not finish report a partial count) */
  readonly budgetSeconds: number;
}

interface ExploreJson {
  readonly executions: number;
  readonly traces?: number;
  readonly transitions: number;
  readonly seconds: number;
  readonly complete: boolean;
  readonly violations: ReadonlyArray<{ code: string }>;
}

const scenarioFiles = (dir: string) =>
  readdirSync(join(REPO, dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => `${dir}/${f}`);

/** The explorer's clock has millisecond resolution: a faster search counts as one millisecond. */
const MS = 0.001;
const searchSeconds = (r: ExploreJson) => Math.max(r.seconds, MS);

const hasThreads = (file: string) => /^threads:/m.test(readFileSync(join(REPO, file), 'utf8'));

// ------------------------------------------------------------------------------------------------ exploration

export interface ExplorationCase {
  readonly scenario: string;
  readonly complete: boolean;
  readonly executions: number;
  /** distinct Mazurkiewicz traces among them (the optimal-DPOR limit) */
  readonly traces: number | null;
  /** executions / traces: 1 is optimal */
  readonly redundancy: number | null;
  readonly seconds: Summary;
  readonly executionsPerSecond: Summary;
  readonly stepsPerSecond: Summary;
  readonly peakRssMb: Summary;
}

export function exploration(
  cfg: BenchConfig,
  files = [...scenarioFiles('scenarios'), ...scenarioFiles('bench/scenarios')],
) {
  const out: ExplorationCase[] = [];
  for (const scenario of files.filter(hasThreads)) {
    const budget = ['--max-seconds', String(cfg.budgetSeconds), '--no-progress'];
    const counted = gmemsimJson<ExploreJson>(['explore', scenario, '--count-traces', ...budget]).json;
    const runs: Array<ChildRun<ExploreJson>> = [];
    for (let i = 0; i < cfg.repeat; i++) runs.push(gmemsimJson<ExploreJson>(['explore', scenario, ...budget]));
    const traces = counted.traces ?? null;
    out.push({
      scenario,
      complete: counted.complete,
      executions: counted.executions,
      traces,
      redundancy: traces ? counted.executions / traces : null,
      seconds: summarize(runs.map((r) => searchSeconds(r.json))),
      executionsPerSecond: summarize(runs.map((r) => r.json.executions / searchSeconds(r.json))),
      stepsPerSecond: summarize(runs.map((r) => r.json.transitions / searchSeconds(r.json))),
      peakRssMb: summarize(runs.map((r) => r.peakRssMb)),
    });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ parallel

export async function parallel(cfg: BenchConfig, scenario = 'scenarios/fault-vs-mf.yaml') {
  const args = ['explore', scenario, '--no-progress'];
  const rate = (extra: string[]) => () => {
    const r = gmemsimJson<ExploreJson>([...args, ...extra]);
    return r.json.executions / r.seconds; // wall clock of the process: workers' start-up counts against them
  };
  const one = sample(cfg.repeat, rate([]));
  const two = sample(cfg.repeat, rate(['--workers', '2']));
  // the machine's own ceiling: two independent single-threaded searches at once, against one
  const ceiling = await sampleAsync(cfg.repeat, async () => {
    const t0 = performance.now();
    const both = await Promise.all([gmemsimJsonAsync<ExploreJson>(args), gmemsimJsonAsync<ExploreJson>(args)]);
    const seconds = (performance.now() - t0) / 1000;
    return both.reduce((n, r) => n + r.executions, 0) / seconds;
  });
  // static shards: both halves run one after the other, against the whole search
  const whole = gmemsimJson<ExploreJson>(args);
  const halves = [0, 1].map((i) => gmemsimJson<ExploreJson>([...args, '--shard', `${i}/2`]));
  const sum = (f: (r: ChildRun<ExploreJson>) => number) => halves.reduce((s, r) => s + f(r), 0);
  return {
    scenario,
    executionsPerSecond: { workers1: one, workers2: two, twoIndependentProcesses: ceiling },
    speedup: two.median / one.median,
    machineCeiling: ceiling.median / one.median,
    shards: {
      note: 'the two halves of --shard i/2 run one after the other, against the unsharded search',
      executions: { whole: whole.json.executions, shardsSummed: sum((r) => r.json.executions) },
      searchSeconds: { whole: whole.json.seconds, shardsSummed: sum((r) => r.json.seconds) },
      overhead: sum((r) => r.json.seconds) / whole.json.seconds,
    },
  };
}

// ------------------------------------------------------------------------------------------------ simulation

const GPA = 0x100000000;
const PAGE = 0x1000;

/** A SW_PROTECTED VM with one private guest_memfd slot of `size` bytes and one vCPU. */
function privateVm(size: number) {
  const s = new Session({});
  const vm = s.KVM_CREATE_VM({ type: 'KVM_X86_SW_PROTECTED_VM' }).ret;
  const gmem = s.KVM_CREATE_GUEST_MEMFD({ vm, size }).ret;
  s.KVM_SET_USER_MEMORY_REGION2({
    vm,
    slot: 1,
    flags: 'KVM_MEM_GUEST_MEMFD',
    guest_phys_addr: GPA,
    memory_size: size,
    guest_memfd: gmem,
  });
  s.KVM_SET_MEMORY_ATTRIBUTES({ vm, address: GPA, size, attributes: 'KVM_MEMORY_ATTRIBUTE_PRIVATE' });
  const vcpu = s.KVM_CREATE_VCPU({ vm, id: 0 }).ret;
  return { s, vm, gmem, vcpu };
}

const timed = (fn: () => void) => {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
};

export function simulation(cfg: BenchConfig) {
  const n = cfg.quick ? 20_000 : 200_000;
  const pages = cfg.quick ? 500 : 4000;
  const reads: GuestAccessInput[] = Array.from({ length: n }, (_, i) => ({ read: GPA + (i % 8) * PAGE }));
  const guestAccesses = sample(cfg.repeat, () => {
    const { s, vcpu } = privateVm(0x400000);
    s.KVM_RUN({ vcpu, guest: reads.slice(0, 8) }); // fault the eight pages in
    return n / timed(() => s.KVM_RUN({ vcpu, guest: reads }));
  });
  const touches: GuestAccessInput[] = Array.from({ length: pages }, (_, i) => ({ read: GPA + i * PAGE }));
  const faults = sample(cfg.repeat, () => {
    const { s, vcpu } = privateVm(pages * PAGE);
    return pages / timed(() => s.KVM_RUN({ vcpu, guest: touches }));
  });

  // memory_failure as the guest grows: the same 16 touched pages, the error on one of them
  const sizes = cfg.quick ? [30, 40] : [30, 34, 37, 40];
  const memoryFailure = sizes.map((log2) => {
    const size = 2 ** log2;
    let heapMb = 0;
    const seconds = sample(cfg.repeat * 5, () => {
      global.gc?.();
      const before = process.memoryUsage().heapUsed;
      const { s, vcpu, gmem } = privateVm(size);
      s.KVM_RUN({ vcpu, guest: Array.from({ length: 16 }, (_, i) => ({ read: GPA + i * PAGE })) });
      const t = timed(() => s.memory_failure({ fd: gmem, offset: 5 * PAGE, flags: 0 }));
      global.gc?.();
      heapMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
      return t;
    });
    return { guestGiB: size / 2 ** 30, folio: '4 KiB', seconds, heapMbAfter: heapMb };
  });

  const files = scenarioFiles('test/uapi');
  const scenarios = files.map((f) => loadScenario(f, readFileSync(join(REPO, f), 'utf8')));
  let ops = 0;
  const opsPerSecond = sample(cfg.repeat, () => {
    ops = 0;
    const t = timed(() => {
      for (const sc of scenarios) ops += runScenario(sc).results.length;
    });
    return ops / t;
  });
  return {
    guestAccessesPerSecond: guestAccesses,
    faultsPerSecond: faults,
    memoryFailure,
    hugeFolios: 'not modeled: guest_memfd folios are order 0 in the model (see README, Fidelity)',
    scenarioOps: { scenarios: files.length, ops, opsPerSecond },
  };
}

// ------------------------------------------------------------------------------------------------ peers

export async function spin(cfg: BenchConfig) {
  const missing = await spinUnavailable();
  if (missing) return { available: false as const, reason: missing };
  const rows = [];
  for (const m of SPIN_MODELS) {
    const runs = [];
    for (let i = 0; i < cfg.repeat; i++) runs.push(await runSpin(m.name));
    if (runs.some((r) => !r.available)) return { available: false as const, reason: `${m.name}: spin did not run` };
    const spinSeconds = summarize(runs.map((r) => (r.available ? r.seconds : 0)));
    const first = runs[0];
    const ours = sample(cfg.repeat, () => {
      const file = m.scenario.slice(REPO.length + 1);
      return searchSeconds(
        gmemsimJson<ExploreJson>(['explore', file, '--no-progress', '--error-handler', m.errorHandler]).json,
      );
    });
    rows.push({
      model: m.name,
      spinStates: first.available ? first.states : 0,
      spinErrors: first.available ? first.errors : 0,
      spinSeconds,
      gmemsimSeconds: ours,
      ratio: ours.median / spinSeconds.median,
    });
  }
  return { available: true as const, note: 'pan search time (compile excluded) against gmemsim search time', rows };
}

/** Time to the first execution violating each rejected variant's defect: fast-check's scheduler vs ours. */
export async function timeToFind(cfg: BenchConfig) {
  const seeds = Array.from({ length: cfg.quick ? 3 : 9 }, (_, i) => i + 1);
  const rows = [];
  for (const d of DEFECTS) {
    const p = prepareProgram(loadScenario(d.file, readFileSync(join(REPO, d.file), 'utf8')), d.kernel);
    const ours = (strategy: Strategy) => {
      const xs = (strategy === 'dfs' ? [1] : seeds).map((seed) => {
        const t0 = performance.now(); // the explorer's own clock counts milliseconds
        const r = explore(p, { strategy, seed, stopOn: [d.code], shrink: false, maxExecutions: 100_000 });
        const seconds = (performance.now() - t0) / 1000;
        return r.interrupted === `found ${d.code}` ? seconds : Number.POSITIVE_INFINITY;
      });
      return summarize(xs);
    };
    const fcRuns = [];
    for (const seed of seeds) {
      fcRuns.push(await findWithFastCheck(d.file, d.kernel, d.code, { seed, maxRuns: 20_000, timeoutMs: 60_000 }));
    }
    const fastCheck = summarize(fcRuns.map((r) => (r.found ? r.seconds : Number.POSITIVE_INFINITY)));
    const dfs = ours('dfs');
    const random = ours('random');
    const pct = ours('pct');
    const best = Math.min(dfs.median, random.median, pct.median);
    rows.push({
      defect: d.what,
      file: d.file,
      kernel: d.kernel,
      code: d.code,
      fastCheck,
      dfs,
      random,
      pct,
      ratio: fastCheck.median / best,
    });
  }
  return rows;
}
