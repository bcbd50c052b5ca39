// oracle/known-differences.yaml stays honest: every entry names a scenario that exists, a step it has, a kernel
// the oracle knows, and says why, with evidence and the proposed fix.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KERNEL_PROFILES } from '../../src/oracle/kernels.js';
import { loadKnownDifferences } from '../../src/oracle/known.js';
import { projectRoot } from '../../src/oracle/paths.js';
import { loadScenario } from '../../src/scenario/load.js';

describe('known differences', () => {
  const known = loadKnownDifferences();
  it('load (the list may be empty: every difference found so far is fixed)', () => {
    expect(Array.isArray(known)).toBe(true);
  });
  for (const k of known) {
    it(`${k.kernel} ${k.file} step ${k.step}`, () => {
      expect(KERNEL_PROFILES.map((p) => p.id)).toContain(k.kernel);
      const path = join(projectRoot(), k.file);
      expect(existsSync(path)).toBe(true);
      const s = loadScenario(k.file, readFileSync(path, 'utf8'));
      expect(k.step).toBeLessThan(s.steps.length);
      expect(k.fields.length).toBeGreaterThan(0);
      for (const text of [k.reason, k.evidence, k.fix]) expect(text.length).toBeGreaterThan(10);
    });
  }
});
