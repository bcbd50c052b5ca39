// Smoke tests of the benchmark's peer baselines (bench/peers): each runs once on a small case. No timing
// assertions. The Spin part skips, loudly, where spin or gcc is missing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFECTS, findWithFastCheck, loadProgram, scheduledExecution } from '../../bench/peers/fast-check/harness.js';
import { crosscheck } from '../../bench/peers/spin/crosscheck.js';
import { runSpin, SPIN_MODELS, spinUnavailable } from '../../bench/peers/spin/run.js';
import { runExecution } from '../../src/engine/execution.js';

describe('fast-check peer', () => {
  it('finds the mf-vs-punch deadlock through fc.scheduler()', async () => {
    const d = DEFECTS.find((x) => x.code === 'GMEM4008')!;
    const r = await findWithFastCheck(d.file, d.kernel, d.code, { seed: 1, maxRuns: 200 });
    expect(r.found).toBe(true);
    expect(r.runs).toBeGreaterThanOrEqual(1);
  });

  it('checks the properties as runExecution() does on the interleaving fast-check picked', async () => {
    const program = await loadProgram('scenarios/fault-vs-mf.yaml', { error_handler: 'rfc-2023' });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const ours = await scheduledExecution(program, s);
        const replay = runExecution(program, (_w, depth, enabled) => {
          const t = ours.schedule[depth];
          return t !== undefined && enabled.includes(t) ? t : null;
        });
        expect(replay.schedule).toEqual(ours.schedule);
        const codes = (vs: ReadonlyArray<{ code: string }>) => [...new Set(vs.map((v) => v.code))].sort();
        expect(codes(ours.violations)).toEqual(codes(replay.violations));
      }),
      { numRuns: 15, seed: 7 },
    );
  });
});

const why = await spinUnavailable();
if (why) console.warn(`*** SKIPPED the Spin peer tests: ${why} ***`);

describe.skipIf(why !== null)('Spin peer', () => {
  it('verifies mf-vs-punch and reports its deadlock as an invalid end state', async () => {
    const r = await runSpin('mf-vs-punch');
    expect(r.available).toBe(true);
    if (!r.available) return;
    expect(r.complete).toBe(true);
    expect(r.states).toBeGreaterThan(0);
    expect(r.errors).toBeGreaterThan(0);
    expect(r.messages).toContain('invalid end state');
  });

  it('still mirrors the TypeScript model point by point (mf-vs-punch)', async () => {
    const m = SPIN_MODELS.find((x) => x.name === 'mf-vs-punch')!;
    const r = await crosscheck(m, 10, 30, 4);
    expect(r.replayMismatches).toEqual([]);
    for (const t of r.threads) expect(t.unknown).toEqual([]);
  });
});
