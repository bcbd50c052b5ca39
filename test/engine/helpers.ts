// Library scenarios as explorer programs, and the parts of a result that must not depend on timing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExploreResult } from '../../src/engine/explore.js';
import { type Program, prepareProgram } from '../../src/engine/program.js';
import type { KernelOptions } from '../../src/kernel/options.js';
import { loadScenario } from '../../src/scenario/load.js';

export const root = join(import.meta.dirname, '..', '..');

export function program(name: string, options: Partial<KernelOptions> = {}): Program {
  const file = join('scenarios', `${name}.yaml`);
  return prepareProgram(loadScenario(file, readFileSync(join(root, file), 'utf8')), options);
}

export function programFromYaml(yaml: string, options: Partial<KernelOptions> = {}): Program {
  return prepareProgram(loadScenario('inline.yaml', yaml), options);
}

/** Everything but the wall-clock time. */
export function timeless(r: ExploreResult): Omit<ExploreResult, 'seconds'> {
  const { seconds: _s, ...rest } = r;
  return rest;
}

export const LIBRARY = [
  'fault-vs-conversion',
  'fault-vs-mf',
  'madvise-vs-guest-access',
  'madvise-vs-host-access',
  'mf-index-equals-gfn',
  'mf-vs-gmem-close',
  'mf-vs-memslot-delete',
  'mf-vs-punch',
  'punch-vs-fault',
];
