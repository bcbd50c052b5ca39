// npm run bench [-- --quick] [--only exploration,parallel,simulation,spin,time-to-find] [--out FILE] [--table FILE]
//
// Writes the results as JSON (machine, versions, per-case min/median/max over repeated runs, and the issue's
// targets with their measured ratios) and as a Markdown table. --quick is CI's smoke run: one repetition, short
// budgets, the same code paths, no timing assertions anywhere.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { type BenchConfig, exploration, parallel, simulation, spin, timeToFind } from './cases.js';
import { machine } from './measure.js';
import { renderTable, targets } from './report.js';

const GROUPS = ['exploration', 'parallel', 'simulation', 'spin', 'time-to-find'] as const;

const cmd = new Command('bench')
  .description('measure gmemsim: exploration, parallel speed-up, simulation speed and the peer baselines')
  .option('--quick', 'smoke run: one repetition and short budgets')
  .addOption(new Option('--only <groups>', `comma-separated subset of ${GROUPS.join(', ')}`))
  .option('--repeat <n>', 'repetitions per case (default 3, 1 with --quick)')
  .option('--out <file>', 'JSON output', 'docs/bench.json')
  .option('--table <file>', 'Markdown table output', 'docs/bench.md')
  .parse();
const o = cmd.opts<{ quick?: boolean; only?: string; repeat?: string; out: string; table: string }>();

const only = new Set(o.only ? o.only.split(',') : GROUPS);
for (const g of only) if (!(GROUPS as readonly string[]).includes(g)) cmd.error(`--only: unknown group "${g}"`);
const repeat = o.repeat ? Number(o.repeat) : o.quick ? 1 : 3;
if (!Number.isInteger(repeat) || repeat < 1) cmd.error('--repeat: a positive integer');
const cfg: BenchConfig = { quick: o.quick === true, repeat, budgetSeconds: o.quick ? 5 : 60 };

const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const results: Record<string, unknown> = {};
const started = Date.now();
if (only.has('exploration')) {
  log('exploration of every library and bench scenario');
  results.exploration = exploration(cfg);
}
if (only.has('parallel')) {
  log('--workers 2 against 1, and the shard overhead');
  results.parallel = await parallel(cfg);
}
if (only.has('simulation')) {
  log('guest accesses, faults, memory_failure by guest size, scenario ops');
  results.simulation = simulation(cfg);
}
if (only.has('spin')) {
  log('Spin on the Promela models');
  results.spin = await spin(cfg);
}
if (only.has('time-to-find')) {
  log("time to each rejected variant's defect: fast-check's scheduler against dfs, random and pct");
  results.timeToFind = await timeToFind(cfg);
}

const report = {
  format: 'gmemsim-bench/1',
  date: new Date().toISOString(),
  mode: cfg.quick ? 'quick' : 'full',
  repeat,
  seconds: (Date.now() - started) / 1000,
  machine: machine(),
  results,
  targets: targets(results),
};
for (const [file, text] of [
  [o.out, `${JSON.stringify(report, (_k, v) => (v === Number.POSITIVE_INFINITY ? 'not found' : v), 2)}\n`],
  [o.table, renderTable(report)],
] as const) {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, text);
}
process.stdout.write(renderTable(report));
log(`wrote ${o.out} and ${o.table}`);
