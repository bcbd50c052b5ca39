// gmemsim oracle / diff / conformance: run scenarios on real Linux kernels and compare with the model.
import type { Command } from 'commander';
import pc from 'picocolors';
import { GmemsimError } from '../../diagnostics/errors.js';
import { type ConformanceResult, loadNotCovered, passed, runConformanceCase } from '../../oracle/conformance.js';
import type { ScenarioComparison } from '../../oracle/diff.js';
import {
  EXPERIMENTS,
  type ExperimentReport,
  experimentDef,
  renderExperiment,
  runExperiment,
} from '../../oracle/experiment.js';
import { expandScenarioPaths } from '../../oracle/files.js';
import { DEFAULT_KERNEL, KERNEL_PROFILES } from '../../oracle/kernels.js';
import { loadKnownDifferences } from '../../oracle/known.js';
import { cacheLayout } from '../../oracle/paths.js';
import { planScenario } from '../../oracle/plan.js';
import { prepareKernel, prepareRunner } from '../../oracle/prepare.js';
import type { OracleScenarioRun } from '../../oracle/protocol.js';
import type { RaceComparison } from '../../oracle/race.js';
import { type Counts, countComparisons, type Painter, plain, renderDiffReport } from '../../oracle/report.js';
import {
  compareRaces,
  compareSession,
  type DiffReport,
  kernelMismatches,
  type OracleSession,
  oracleResultsFor,
  resolveProfile,
  runOracle,
  runRaces,
} from '../../oracle/session.js';
import type { Scenario } from '../../scenario/load.js';
import { runScenario } from '../../scenario/run.js';
import { EXIT_FAIL, EXIT_OK, readScenarioFile } from '../io.js';
import { describeResult, formatMismatch } from '../render.js';

interface OracleFlags {
  kernel: string;
  host?: boolean;
  json?: boolean;
  cache?: string;
  timeout?: string;
  append?: string;
  skipUnavailable?: boolean;
}

function painter(color: boolean): Painter {
  return color ? { red: pc.red, green: pc.green, dim: pc.dim, bold: pc.bold, yellow: pc.yellow } : plain;
}

function oracleOptions(cmd: Command): Command {
  return cmd
    .option('--kernel <version>', `real kernel to run (${KERNEL_PROFILES.map((k) => k.id).join(', ')})`, DEFAULT_KERNEL)
    .option('--host', 'run the runner on this machine, which must have /dev/kvm, instead of booting QEMU')
    .option('--cache <dir>', 'oracle cache folder (default: $GMEMSIM_ORACLE_CACHE or .cache/oracle)')
    .option('--timeout <seconds>', 'give up on the boot after this long', '900')
    .option('--append <params>', 'extra kernel command-line parameters, e.g. kvm_amd.npt=0');
}

function loadAll(paths: readonly string[]): Scenario[] {
  return expandScenarioPaths(paths).map(readScenarioFile);
}

function log(line: string): void {
  process.stderr.write(pc.dim(`oracle: ${line}\n`));
}

async function session(scenarios: readonly Scenario[], f: OracleFlags): Promise<OracleSession> {
  const timeoutMs = Number(f.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new GmemsimError({ code: 'GMEM5002', message: `--timeout ${f.timeout}: expected seconds` });
  }
  const profile = resolveProfile(f.kernel);
  log(
    `${f.host ? 'running on this host' : `booting Debian ${profile.id} in QEMU`} for ${scenarios.length} scenario(s)`,
  );
  return runOracle({ scenarios, kernel: f.kernel, host: f.host, cacheDir: f.cache, timeoutMs, append: f.append, log });
}

/** The loud line CI looks for when the oracle cannot run; the model side still runs. */
function reportSkip(e: GmemsimError): void {
  process.stderr.write(`${pc.bold(pc.yellow(`oracle skipped: ${e.message}`))}\n`);
  for (const d of e.diagnostics) if (d.hint) process.stderr.write(`  hint: ${d.hint}\n`);
}

function isUnavailable(e: unknown): e is GmemsimError {
  return e instanceof GmemsimError && e.code === 'GMEM5101';
}

// ------------------------------------------------------------------------------------------------ gmemsim oracle

function printOracleJson(s: OracleSession): void {
  for (const [i, plan] of s.plans.entries()) {
    const run = oracleResultsFor(s, i);
    process.stdout.write(
      `${JSON.stringify({ oracle: 'begin', file: plan.scenario.file, name: plan.scenario.name })}\n`,
    );
    for (const r of run?.results ?? []) process.stdout.write(`${JSON.stringify(r)}\n`);
    const stop = plan.modelOnly ? { step: 0, reason: plan.modelOnly } : (run?.modelOnly ?? run?.killed);
    if (stop) process.stdout.write(`${JSON.stringify({ oracle: 'model_only', ...stop })}\n`);
  }
}

function renderOracleRun(
  plan: ReturnType<typeof planScenario>,
  run: OracleScenarioRun | undefined,
  p: Painter,
): string[] {
  const lines = [p.bold(plan.scenario.file)];
  for (const r of run?.results ?? []) {
    lines.push(`  ${String(r.step).padStart(3)} ${r.op.padEnd(28)} ${describeResult(r)}`);
    for (const d of r.dmesg ?? []) lines.push(p.dim(`        dmesg: ${d}`));
  }
  const stop = plan.modelOnly ? { step: 0, reason: plan.modelOnly } : (run?.modelOnly ?? undefined);
  if (stop) lines.push(p.yellow(`  model-only from step ${stop.step}: ${stop.reason}`));
  if (run?.killed)
    lines.push(p.red(`  the VMM was ${run.killed.status} at step ${run.killed.step} (${run.killed.op})`));
  return lines;
}

function registerOracleCommand(program: Command, color: () => boolean): void {
  oracleOptions(
    program
      .command('oracle')
      .description("run scenarios on a real Linux kernel (all in one QEMU boot) and check each scenario's `expect:`")
      .argument('[files...]', 'scenario files or directories')
      .option('--json', 'print the step results as JSON lines, as `gmemsim run --json` does')
      .option('--race', 'run scenarios with `threads:` many times, threads as pthreads, and compare outcomes')
      .option('--runs <n>', 'runs per scenario in race mode', '50')
      .option('--prepare-only', 'download, verify and build everything, then stop'),
  ).action(async (files: string[], f: OracleFlags & { prepareOnly?: boolean; race?: boolean; runs: string }) => {
    if (f.prepareOnly) {
      const c = cacheLayout(f.cache);
      const path = f.host
        ? await prepareRunner(c, log)
        : (await prepareKernel(resolveProfile(f.kernel), c, log)).initramfs;
      process.stdout.write(`${path}\n`);
      return;
    }
    if (files.length === 0)
      throw new GmemsimError({ code: 'GMEM5002', message: 'gmemsim oracle needs scenario files' });
    if (f.race) {
      process.exitCode = await raceCommand(loadAll(files), f, painter(color()));
      return;
    }
    const s = await session(loadAll(files), f);
    if (f.json) printOracleJson(s);
    const p = painter(color());
    let failed = 0;
    for (const [i, plan] of s.plans.entries()) {
      const run = oracleResultsFor(s, i);
      const mismatches = kernelMismatches(plan, run?.results ?? []);
      failed += mismatches.length;
      if (!f.json) process.stdout.write(`${renderOracleRun(plan, run, p).join('\n')}\n`);
      for (const m of mismatches) process.stderr.write(`${formatMismatch(m)}  ${p.dim(`[kernel ${s.profile.id}]`)}\n`);
    }
    process.exitCode = failed > 0 ? EXIT_FAIL : EXIT_OK;
  });
}

// ------------------------------------------------------------------------------------------------ gmemsim oracle --race

function renderRace(c: RaceComparison, p: Painter): string[] {
  if (c.modelOnly) return [`${p.bold(c.file)}  ${p.yellow('model-only')}  ${p.dim(c.modelOnly)}`];
  const lines = [`${p.bold(c.file)}  ${c.runs} runs, ${c.kernel.length} distinct outcome(s)`];
  for (const k of c.kernel) {
    const tag = k.predicted
      ? p.green('predicted by the model')
      : p.red(`NOT PREDICTED${c.modelComplete ? '' : ' (the model exploration was incomplete)'}`);
    lines.push(`  ${String(k.count).padStart(4)}x  ${tag}  ${JSON.stringify(k.outcome)}`);
  }
  for (const u of c.unseen) lines.push(p.dim(`     -  model only (not seen in ${c.runs} runs)  ${JSON.stringify(u)}`));
  return lines;
}

async function raceCommand(
  scenarios: readonly Scenario[],
  f: OracleFlags & { runs: string },
  p: Painter,
): Promise<number> {
  const runs = Number(f.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new GmemsimError({ code: 'GMEM5002', message: `--runs ${f.runs}: expected a positive integer` });
  const profile = resolveProfile(f.kernel);
  log(`race mode: ${runs} runs per scenario on Debian ${profile.id}`);
  const s = await runRaces({
    scenarios,
    kernel: f.kernel,
    host: f.host,
    cacheDir: f.cache,
    timeoutMs: Number(f.timeout) * 1000,
    append: f.append,
    log,
    runs,
  });
  const cmps = compareRaces(s);
  if (f.json)
    process.stdout.write(`${JSON.stringify({ kernel: profile.id, races: cmps, timings: s.outcome?.timings })}\n`);
  else process.stdout.write(`${cmps.flatMap((c) => renderRace(c, p)).join('\n')}\n`);
  return cmps.some((c) => c.kernel.some((k) => !k.predicted)) ? EXIT_FAIL : EXIT_OK;
}

// ------------------------------------------------------------------------------------------------ gmemsim diff

/** Without the oracle, the model side alone: every scenario's own expectations. */
function modelOnlyCheck(scenarios: readonly Scenario[]): number {
  let failed = 0;
  for (const s of scenarios) {
    if (s.threads.size > 0) continue;
    const out = runScenario(s);
    for (const m of out.mismatches) process.stderr.write(`${formatMismatch(m)}\n`);
    failed += out.mismatches.length + (out.stopped ? 1 : 0);
  }
  process.stdout.write(
    `model: ${scenarios.length} scenarios, ${failed === 0 ? 'all expectations hold' : `${failed} failure(s)`}\n`,
  );
  return failed > 0 ? EXIT_FAIL : EXIT_OK;
}

function diffJson(r: DiffReport): string {
  return JSON.stringify({
    kernel: r.session.profile.id,
    uname: r.session.outcome?.run.meta?.kernel,
    counts: countComparisons(r.comparisons),
    timings: r.timings,
    stale: r.stale,
    scenarios: r.comparisons,
  });
}

function registerDiffCommand(program: Command, color: () => boolean): void {
  oracleOptions(
    program
      .command('diff')
      .description('run scenarios on the model and on a real kernel and print the differences field by field')
      .argument('<files...>', 'scenario files or directories')
      .option('--json', 'print the comparison as one JSON document')
      .option('--skip-unavailable', 'when the oracle cannot run here, say so loudly and check the model side alone'),
  ).action(async (files: string[], f: OracleFlags) => {
    const scenarios = loadAll(files);
    const known = loadKnownDifferences(); // read before the boot: a broken list should not cost one
    let s: OracleSession;
    try {
      s = await session(scenarios, f);
    } catch (e) {
      if (!f.skipUnavailable || !isUnavailable(e)) throw e;
      reportSkip(e);
      process.exitCode = modelOnlyCheck(scenarios);
      return;
    }
    const report = compareSession(s, known);
    process.stdout.write(`${f.json ? diffJson(report) : renderDiffReport(report, painter(color()))}\n`);
    const failed = report.comparisons.some((c) => c.status === 'different') || report.stale.length > 0;
    process.exitCode = failed ? EXIT_FAIL : EXIT_OK;
  });
}

// ------------------------------------------------------------------------------------------------ gmemsim conformance

interface Row {
  readonly file: string;
  readonly selftest: string;
  readonly model: string;
  readonly kernel: string;
}

function kernelColumn(s: Scenario, kernel: string, cmp: ScenarioComparison | undefined): string {
  if (cmp) {
    if (cmp.status === 'model-only') return `model-only: ${cmp.modelOnly?.reason ?? ''}`;
    const tail = cmp.modelOnly ? ` (steps 0-${cmp.modelOnly.step - 1}; rest model-only: ${cmp.modelOnly.reason})` : '';
    return `${cmp.status}${tail}`;
  }
  const plan = planScenario(s, resolveProfile(kernel));
  if (plan.modelOnly) return `model-only: ${plan.modelOnly}`;
  return plan.stop
    ? `oracle-runnable before step ${plan.stop.step}; then model-only: ${plan.stop.reason}`
    : 'oracle-runnable';
}

function rowsOf(results: readonly ConformanceResult[], kernel: string, cmps?: readonly ScenarioComparison[]): Row[] {
  return results.map((r, i) => ({
    file: r.scenario.file,
    selftest: r.selftest ? `${r.selftest.file} ${r.selftest.fn}` : '(no selftest cited)',
    model: passed(r)
      ? 'pass'
      : `FAIL (${r.mismatches.length} mismatch${r.mismatches.length === 1 ? '' : 'es'}${r.stopped ? `, ${r.stopped}` : ''})`,
    kernel: kernelColumn(r.scenario, kernel, cmps?.[i]),
  }));
}

function renderTable(
  rows: readonly Row[],
  notCovered: ReturnType<typeof loadNotCovered>,
  kernel: string,
  p: Painter,
): string {
  const head = ['scenario', 'selftest', 'model', `kernel ${kernel}`];
  const body = [
    ...rows.map((r) => [r.file, r.selftest, r.model, r.kernel]),
    ...notCovered.map((n) => ['-', `${n.file} ${n.fn}`, 'not covered', n.reason]),
  ];
  const width = head.map((h, c) => Math.min(60, Math.max(h.length, ...body.map((b) => b[c].length))));
  const fmt = (cells: string[]) => cells.map((x, c) => (c === 3 ? x : x.padEnd(width[c]))).join('  ');
  const paint = (cells: string[]) => {
    const line = fmt(cells);
    if (cells[2].startsWith('FAIL') || cells[3].startsWith('different')) return p.red(line);
    return cells[2] === 'not covered' ? p.dim(line) : line;
  };
  return [p.bold(fmt(head)), ...body.map(paint)].join('\n');
}

function summary(results: readonly ConformanceResult[], notCovered: number, counts?: Counts): string {
  const failed = results.filter((r) => !passed(r)).length;
  const model = `conformance: ${results.length} scenarios, model ${results.length - failed} pass, ${failed} fail; ${notCovered} selftest expectations not covered`;
  if (!counts) return model;
  return `${model}; kernel: ${counts.both} run on both sides (${counts.identical} identical, ${counts.known} known differences, ${counts.different} different), ${counts.modelOnly} model-only`;
}

function registerConformanceCommand(program: Command, color: () => boolean): void {
  oracleOptions(
    program
      .command('conformance')
      .description('run the conformance suite (upstream selftest expectations) and print a pass/fail table')
      .argument('[dir]', 'the suite folder', 'conformance')
      .option('--oracle', 'also run every scenario the oracle can run on the real kernel and compare')
      .option('--json', 'print the results as one JSON document')
      .option('--skip-unavailable', 'when the oracle cannot run here, say so loudly and report the model side'),
  ).action(async (dir: string, f: OracleFlags & { oracle?: boolean }) => {
    const scenarios = loadAll([dir]);
    const notCovered = loadNotCovered(dir);
    const results = scenarios.map(runConformanceCase);
    let cmps: readonly ScenarioComparison[] | undefined;
    let stale = 0;
    if (f.oracle) {
      const known = loadKnownDifferences();
      try {
        const report = compareSession(await session(scenarios, f), known);
        cmps = report.comparisons;
        stale = report.stale.length;
        for (const k of report.stale) process.stderr.write(`stale known difference: ${k.file} step ${k.step}\n`);
      } catch (e) {
        if (!f.skipUnavailable || !isUnavailable(e)) throw e;
        reportSkip(e);
      }
    }
    const rows = rowsOf(results, f.kernel, cmps);
    const counts = cmps ? countComparisons(cmps) : undefined;
    if (f.json) {
      process.stdout.write(`${JSON.stringify({ kernel: f.kernel, rows, notCovered, counts })}\n`);
    } else {
      const p = painter(color());
      process.stdout.write(
        `${renderTable(rows, notCovered, f.kernel, p)}\n\n${summary(results, notCovered.length, counts)}\n`,
      );
      for (const r of results) for (const m of r.mismatches) process.stderr.write(`${formatMismatch(m)}\n`);
    }
    const bad = results.some((r) => !passed(r)) || (cmps ?? []).some((c) => c.status === 'different') || stale > 0;
    process.exitCode = bad ? EXIT_FAIL : EXIT_OK;
  });
}

// ------------------------------------------------------------------------------------------------ gmemsim experiment

interface ExperimentFlags {
  kernel: string;
  mode?: string;
  runs: string;
  seconds?: string;
  json?: boolean;
  cache?: string;
  timeout?: string;
  append?: string;
  skipUnavailable?: boolean;
}

function positive(flag: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new GmemsimError({
      code: 'GMEM5002',
      message: `${flag} ${v}: expected a positive ${integer ? 'integer' : 'number'}`,
    });
  return n;
}

function listExperiments(): string {
  return EXPERIMENTS.flatMap((e) => [
    `${e.name}: ${e.summary}`,
    ...Object.entries(e.modes).map(([m, d]) => `  --mode ${m.padEnd(8)} expect ${d.expect.padEnd(8)} ${d.what}`),
  ]).join('\n');
}

function registerExperimentCommand(program: Command, color: () => boolean): void {
  program
    .command('experiment')
    .description(
      "boot an oracle experiment (its own C program, oracle/experiments/<name>/) in QEMU with MTTCG and 2 vCPUs, once per run, and check the experiment's declared expectation",
    )
    .argument('[name]', 'the experiment; without it, list the experiments and their modes')
    .option(
      '--kernel <version>',
      `real kernel to boot (${KERNEL_PROFILES.map((k) => k.id).join(', ')})`,
      DEFAULT_KERNEL,
    )
    .option('--mode <mode>', "the experiment's mode (default: its first)")
    .option('--runs <n>', 'boots', '3')
    .option('--seconds <s>', "racing time per boot before it counts as no hang (default: the experiment's)")
    .option('--json', 'print the report as one JSON document')
    .option('--cache <dir>', 'oracle cache folder (default: $GMEMSIM_ORACLE_CACHE or .cache/oracle)')
    .option('--timeout <seconds>', 'give up on a boot after this long (default: racing time + 180)')
    .option('--append <params>', 'extra kernel command-line parameters')
    .option('--skip-unavailable', 'when the oracle cannot run here, say so loudly and exit 0')
    .action(async (name: string | undefined, f: ExperimentFlags) => {
      if (!name) {
        process.stdout.write(`${listExperiments()}\n`);
        return;
      }
      experimentDef(name); // an unknown name is a usage error before anything is built
      const runs = positive('--runs', f.runs, true)!;
      const seconds = positive('--seconds', f.seconds, true);
      const timeout = positive('--timeout', f.timeout, false);
      let r: ExperimentReport;
      try {
        r = await runExperiment({
          name,
          kernel: f.kernel,
          mode: f.mode,
          runs,
          seconds,
          cacheDir: f.cache,
          timeoutMs: timeout === undefined ? undefined : timeout * 1000,
          append: f.append,
          log,
        });
      } catch (e) {
        if (!isUnavailable(e)) throw e;
        reportSkip(e);
        if (!f.skipUnavailable) throw e;
        process.exitCode = EXIT_OK;
        return;
      }
      process.stdout.write(`${f.json ? JSON.stringify(r) : renderExperiment(r, painter(color()))}\n`);
      process.exitCode = r.matches ? EXIT_OK : EXIT_FAIL;
    });
}

export function registerOracle(program: Command, color: () => boolean): void {
  registerOracleCommand(program, color);
  registerDiffCommand(program, color);
  registerConformanceCommand(program, color);
  registerExperimentCommand(program, color);
}
