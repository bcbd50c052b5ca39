// gmemsim run FILE [--json] [--trace]: run a scenario's steps on the model and check its expectations.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runBundle } from '../../api/bundle.js';
import { GmemsimError } from '../../diagnostics/errors.js';
import { type RunOutcome, runScenario } from '../../scenario/run.js';
import { formatFtrace, type TaskInfo } from '../../trace/ftrace.js';
import { toPerfetto } from '../../trace/perfetto.js';
import { EXIT_FAIL, EXIT_OK, readScenarioFile } from '../io.js';
import { type KernelOptionFlags, kernelOptionFlags, parseKernelOptions } from '../options.js';
import { formatMismatch, renderRun } from '../render.js';

export function ftraceOf(o: RunOutcome): string {
  const tasks = new Map<number, TaskInfo>();
  let cpu = 0;
  for (const p of o.kernel.procs) for (const t of p.threads) tasks.set(t.tid, { comm: t.comm, cpu: cpu++ });
  return formatFtrace(o.trace.events, tasks);
}

type RunFlags = KernelOptionFlags & { json?: boolean; trace?: boolean; stateTrace?: string; perfetto?: string };

export function registerRun(program: Command, color: () => boolean): void {
  kernelOptionFlags(
    program
      .command('run')
      .description("run a scenario's steps on the model and check every `expect:`")
      .argument('<file>', 'scenario file (YAML or JSON)')
      .option('--json', 'print each step result as one JSON object per line')
      .option('--trace', 'print the ftrace-style trace of the run')
      .option(
        '--state-trace <file>',
        'write the run as JSON: results, trace events and the kernel state after each event',
      )
      .option('--perfetto <file>', 'write the trace as Chrome/Perfetto trace-event JSON, one track per thread'),
  ).action((file: string, opts: RunFlags) => {
    const scenario = readScenarioFile(file);
    if (opts.stateTrace || opts.perfetto) {
      const bundle = runBundle(scenario, parseKernelOptions(opts));
      if (opts.stateTrace) writeOutput(opts.stateTrace, `${JSON.stringify(bundle)}\n`);
      if (opts.perfetto) writeOutput(opts.perfetto, `${JSON.stringify(toPerfetto(bundle))}\n`);
    }
    const outcome = runScenario(scenario, {
      options: parseKernelOptions(opts),
      trace: opts.trace,
      onStep: opts.json ? (r) => process.stdout.write(`${JSON.stringify(r)}\n`) : undefined,
    });
    if (opts.json) {
      for (const m of outcome.mismatches) process.stderr.write(`${formatMismatch(m)}\n`);
      if (outcome.stopped) process.stderr.write(`stopped: ${outcome.stopped}\n`);
      if (opts.trace) process.stderr.write(ftraceOf(outcome));
    } else {
      process.stdout.write(`${renderRun(outcome, color())}\n`);
      if (opts.trace) process.stdout.write(`\n${ftraceOf(outcome)}`);
    }
    process.exitCode = outcome.mismatches.length > 0 ? EXIT_FAIL : EXIT_OK;
  });
}

/** Writes an export file; a failure is a coded error, not a stack trace. */
function writeOutput(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new GmemsimError({
      code: 'GMEM5003',
      message: `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    });
  }
}
