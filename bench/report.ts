// The issue's targets, evaluated on one run's results, and the Markdown table of the whole report.
import type { exploration, parallel, simulation, spin, timeToFind } from './cases.js';
import type { Summary } from './measure.js';

interface Results {
  exploration?: ReturnType<typeof exploration>;
  parallel?: Awaited<ReturnType<typeof parallel>>;
  simulation?: ReturnType<typeof simulation>;
  spin?: Awaited<ReturnType<typeof spin>>;
  timeToFind?: Awaited<ReturnType<typeof timeToFind>>;
}

export interface Target {
  readonly target: string;
  readonly measured: string;
  /** the measured ratio, oriented so that <= `limit` meets the target */
  readonly ratio: number | null;
  readonly met: boolean | null;
}

const FOUR_VCPUS = 'bench/scenarios/four-vcpus-mf-punch-convert.yaml';
const SEED_RACES = ['fault-vs-mf', 'mf-vs-punch', 'punch-vs-fault'];

export function targets(r: Results): Target[] {
  const out: Target[] = [];
  const t = (target: string, measured: string, ratio: number | null, limit: number) =>
    out.push({ target, measured, ratio, met: ratio === null ? null : ratio <= limit });
  if (r.exploration) {
    const lib = r.exploration.filter((e) => e.scenario.startsWith('scenarios/'));
    const counted = lib.filter((e) => e.complete && e.redundancy !== null);
    const worst = Math.max(...counted.map((e) => e.redundancy!));
    const open = lib.filter((e) => !e.complete).map((e) => e.scenario);
    t(
      'executions <= 1.1 x Mazurkiewicz traces on every library scenario',
      `worst ${worst.toFixed(3)} x over ${counted.length} scenarios${open.length ? `; not exhausted: ${open.join(', ')}` : ''}`,
      open.length ? null : worst / 1.1,
      1,
    );
    const four = r.exploration.find((e) => e.scenario === FOUR_VCPUS);
    if (four) {
      t(
        'four vCPUs + memory failure + punch-hole + conversion: exhaustive in < 60 s',
        four.complete
          ? `${four.seconds.median.toFixed(1)} s, ${four.executions} executions`
          : `not exhausted within the budget (${four.executions} executions explored)`,
        four.complete ? four.seconds.median / 60 : null,
        1,
      );
    }
  }
  if (r.spin?.available) {
    const seed = r.spin.rows.filter((x) => SEED_RACES.includes(x.model));
    const worst = seed.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    t(
      "exhaustive time on each seed race <= Spin's on the Promela model",
      `worst ${worst.model}: gmemsim ${worst.gmemsimSeconds.median.toFixed(3)} s, pan ${worst.spinSeconds.median.toFixed(3)} s`,
      worst.ratio,
      1,
    );
  } else if (r.spin) {
    t("exhaustive time on each seed race <= Spin's", `not measured: ${r.spin.reason}`, null, 1);
  }
  if (r.timeToFind) {
    const worst = r.timeToFind.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    t(
      'each rejected variant defect found >= 10x faster (median) than fast-check scheduler()',
      `slowest advantage ${fmtRatio(worst.ratio)} (${worst.code}, ${worst.file})`,
      Number.isFinite(worst.ratio) ? 10 / worst.ratio : null,
      1,
    );
  }
  if (r.simulation) {
    const mf = r.simulation.memoryFailure;
    const small = mf[0];
    const big = mf[mf.length - 1];
    t(
      `memory_failure at ${big.guestGiB} GiB within 2x of ${small.guestGiB} GiB`,
      `${fmtSeconds(big.seconds.median)} vs ${fmtSeconds(small.seconds.median)}; heap growth ${big.heapMbAfter.toFixed(2)} vs ${small.heapMbAfter.toFixed(2)} MiB`,
      big.seconds.median / small.seconds.median / 2,
      1,
    );
    const g = r.simulation.guestAccessesPerSecond.median;
    t('guest accesses through established SPTEs >= 10 M/s', `${fmtRate(g)}/s`, 10e6 / g, 1);
  }
  if (r.parallel) {
    t(
      '--workers 2 >= 1.7x the throughput of 1 worker',
      `${r.parallel.speedup.toFixed(2)}x; this machine's ceiling (two independent searches at once) is ${r.parallel.machineCeiling.toFixed(2)}x`,
      1.7 / r.parallel.speedup,
      1,
    );
  }
  return out;
}

const fmtRatio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)}x` : 'n/a (not found)');
const fmtSeconds = (s: number) => (s < 0.01 ? `${(s * 1e6).toFixed(0)} us` : `${s.toFixed(3)} s`);
const fmtRate = (x: number) =>
  x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0);
const med = (s: Summary, f: (x: number) => string) =>
  s.samples > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median);
const secs = (x: number) => (Number.isFinite(x) ? fmtSeconds(x) : 'not found');

export function renderTable(report: {
  date: string;
  mode: string;
  repeat: number;
  machine: { cpus: number; cpuModel: string; versions: Record<string, string | null> };
  results: Results;
  targets: Target[];
}): string {
  const r = report.results;
  const L: string[] = [];
  L.push('# gmemsim benchmark', '');
  L.push(
    `${report.date}, ${report.mode} run (${report.repeat} repetition${report.repeat > 1 ? 's' : ''}; medians, with min–max), ` +
      `${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.versions.node}, ${report.machine.versions.spin ?? 'no Spin'}.`,
    '',
    'Reproduce: `npm run bench` (full) or `npm run bench -- --quick`. Raw numbers: [bench.json](bench.json).',
    '',
    '## Targets',
    '',
    '| target | measured | met |',
    '|---|---|---|',
  );
  for (const t of report.targets) {
    L.push(
      `| ${t.target} | ${t.measured} | ${t.met === null ? 'not established' : t.met ? 'yes' : `no (${t.ratio!.toFixed(1)}x off)`} |`,
    );
  }
  if (r.exploration) {
    L.push('', '## Exploration (dfs with DPOR)', '');
    L.push(
      '| scenario | complete | executions | traces | exec/trace | search time | exec/s | steps/s | peak RSS MiB |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|');
    for (const e of r.exploration) {
      L.push(
        `| ${e.scenario} | ${e.complete ? 'yes' : 'no'} | ${e.executions} | ${e.traces ?? ''} | ${e.redundancy?.toFixed(3) ?? ''} | ${med(e.seconds, fmtSeconds)} | ${med(e.executionsPerSecond, fmtRate)} | ${med(e.stepsPerSecond, fmtRate)} | ${med(e.peakRssMb, (x) => x.toFixed(0))} |`,
      );
    }
  }
  if (r.parallel) {
    const p = r.parallel;
    L.push('', `## Parallel (${p.scenario})`, '');
    L.push(
      `- executions/s with 1 worker: ${med(p.executionsPerSecond.workers1, fmtRate)}; with 2 (parallel DPOR): ${med(p.executionsPerSecond.workers2, fmtRate)}; speed-up ${p.speedup.toFixed(2)}x`,
      `- the machine's ceiling: two independent single-threaded searches at once run ${med(p.executionsPerSecond.twoIndependentProcesses, fmtRate)} executions/s together, ${p.machineCeiling.toFixed(2)}x one`,
    );
    L.push(
      `- static shards (--shard i/2): ${p.shards.executions.shardsSummed} executions over two shards against ${p.shards.executions.whole} unsharded; search time ${p.shards.overhead.toFixed(2)}x`,
    );
  }
  if (r.simulation) {
    const s = r.simulation;
    L.push('', '## Simulation', '');
    L.push(`- guest accesses through established SPTEs: ${med(s.guestAccessesPerSecond, fmtRate)}/s`);
    L.push(`- guest faults (first touch of a private page): ${med(s.faultsPerSecond, fmtRate)}/s`);
    L.push(
      `- scenario ops: ${med(s.scenarioOps.opsPerSecond, fmtRate)}/s (${s.scenarioOps.scenarios} uAPI scenarios, ${s.scenarioOps.ops} ops)`,
    );
    L.push(`- 2 MiB folios: ${s.hugeFolios}`, '');
    L.push('| guest size | folio | memory_failure | heap growth, MiB |', '|---|---|---|---|');
    for (const m of s.memoryFailure) {
      L.push(`| ${m.guestGiB} GiB | ${m.folio} | ${med(m.seconds, fmtSeconds)} | ${m.heapMbAfter.toFixed(2)} |`);
    }
  }
  if (r.spin) {
    L.push('', '## Spin (bench/peers/spin)', '');
    if (!r.spin.available) L.push(`Not measured: ${r.spin.reason}`);
    else {
      L.push(
        '| model | pan states | pan errors | pan time | gmemsim time | gmemsim / pan |',
        '|---|---|---|---|---|---|',
      );
      for (const x of r.spin.rows) {
        L.push(
          `| ${x.model} | ${x.spinStates} | ${x.spinErrors} | ${med(x.spinSeconds, fmtSeconds)} | ${med(x.gmemsimSeconds, fmtSeconds)} | ${x.ratio.toFixed(1)} |`,
        );
      }
    }
  }
  if (r.timeToFind) {
    L.push('', '## Time to find each defect (bench/peers/fast-check)', '');
    L.push('| defect | fast-check scheduler() | dfs | random | pct | fast-check / best |', '|---|---|---|---|---|---|');
    for (const x of r.timeToFind) {
      L.push(
        `| ${x.code}: ${x.defect} | ${med(x.fastCheck, secs)} | ${med(x.dfs, secs)} | ${med(x.random, secs)} | ${med(x.pct, secs)} | ${fmtRatio(x.ratio)} |`,
      );
    }
  }
  return `${L.join('\n')}\n`;
}
