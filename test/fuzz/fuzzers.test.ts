// CI's seeded fuzzing job: a fixed number of generated inputs per fuzzer, so the same inputs run every time.
// The long, time-budgeted job is `npm run fuzz`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../fuzz/corpus.js';
import { FUZZERS, fuzzProperty, newStats } from '../../fuzz/fuzzers.js';
import { checkAnyText, judgeThrown } from '../../fuzz/harness.js';
import { GmemsimError } from '../../src/diagnostics/errors.js';

const RUNS: Record<(typeof KINDS)[number], number> = { language: 3000, 'uapi-seq': 10000, 'uapi-threads': 2000 };

describe('seeded fuzzing', () => {
  for (const kind of KINDS) {
    it(`${kind}: ${RUNS[kind]} inputs, none crashes or escapes its bounds`, () => {
      const stats = newStats();
      fc.assert(fuzzProperty(FUZZERS[kind], stats), { seed: 20261125, numRuns: RUNS[kind] });
      expect(stats.inputs).toBeGreaterThanOrEqual(RUNS[kind]);
    }, 600_000);
  }
});

describe('the judge', () => {
  it('calls an uncaught exception a crash, and a coded error a clean refusal', () => {
    expect(judgeThrown(new TypeError('boom'), 'run')?.signature).toMatch(/^crash:run:TypeError/);
    expect(judgeThrown(new GmemsimError({ code: 'GMEM3001', message: 'not modeled' }), 'run')).toBeNull();
    expect(judgeThrown(new GmemsimError({ code: 'GMEM3900', message: 'model bug' }), 'run')?.signature).toMatch(
      /^internal:/,
    );
  });

  it('accepts invalid YAML as long as the error is located', () => {
    expect(checkAnyText('name: [unclosed\n')).toBeNull();
    expect(checkAnyText('a: &x [*x]\n')).toBeNull();
  });
});
