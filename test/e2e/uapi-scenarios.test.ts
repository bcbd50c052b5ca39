// Every scenario under test/uapi pins uAPI behaviour: each must load, run, and meet every expectation.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';

const dir = join(import.meta.dirname, '..', 'uapi');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('uAPI scenarios', () => {
  it('exist', () => {
    expect(files.length).toBeGreaterThan(10);
  });
  for (const f of files) {
    it(f, () => {
      const s = loadScenario(join('test/uapi', f), readFileSync(join(dir, f), 'utf8'));
      const checked = s.steps.filter((st) => st.expect).length;
      expect(checked, 'a pinning scenario checks something').toBeGreaterThan(0);
      const out = runScenario(s);
      expect(out.stopped).toBeUndefined();
      expect(
        out.mismatches.map(
          (m) =>
            `${m.loc.line}: step ${m.step} ${m.op} ${m.field}: want ${String(m.expected)} got ${JSON.stringify(m.actual)}`,
        ),
      ).toEqual([]);
      expect(out.results.length).toBe(s.steps.length);
    });
  }
});
