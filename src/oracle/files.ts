// Scenario files named on the command line: files as given, directories expanded (recursively, sorted) to their
// YAML and JSON scenario files.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SCENARIO_EXT = /\.(ya?ml|json)$/;
/** Catalogues that live next to scenarios but are not scenarios (the suite's not-covered list). */
const NOT_SCENARIOS = new Set(['not-covered.yaml', 'known-differences.yaml']);

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) return walk(p);
      return SCENARIO_EXT.test(e.name) && !NOT_SCENARIOS.has(e.name) ? [p] : [];
    });
}

export function expandScenarioPaths(paths: readonly string[]): string[] {
  return paths.flatMap((p) => {
    try {
      return statSync(p).isDirectory() ? walk(p) : [p];
    } catch {
      return [p]; // reading it reports the error with its code
    }
  });
}
