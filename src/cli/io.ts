// File reading and error reporting shared by the commands: every failure becomes a coded diagnostic and an exit
// status, never a stack trace.
import { readFileSync } from 'node:fs';
import { GmemsimError, ScenarioError } from '../diagnostics/errors.js';
import { formatDiagnostics } from '../diagnostics/format.js';
import { loadScenario, type Scenario } from '../scenario/load.js';

export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;
/** stopped by Ctrl-C before it could answer (128 + SIGINT, as shells report it) */
export const EXIT_INTERRUPTED = 130;

export class CliExit extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

export function readScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new GmemsimError({
      code: 'GMEM5001',
      message: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    });
  }
  return loadScenario(file, text);
}

/** Prints an error the way users should see it and returns the exit status. */
export function reportError(e: unknown, color: boolean): number {
  if (e instanceof CliExit) return e.status;
  if (e instanceof GmemsimError) {
    process.stderr.write(`${formatDiagnostics(e.diagnostics, color)}\n`);
    if (e instanceof ScenarioError) return EXIT_USAGE;
    const cat = e.code.slice(4, 5);
    return cat === '1' || cat === '5' ? EXIT_USAGE : cat === '3' && e.code !== 'GMEM3900' ? EXIT_USAGE : EXIT_INTERNAL;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(
    `gmemsim: internal error GMEM3900: ${msg}\nThis is a bug in gmemsim; please report it with the command line and input.\n`,
  );
  return EXIT_INTERNAL;
}
