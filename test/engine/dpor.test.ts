// DPOR must be complete (every reachable final state is reached) and without redundancy (no two complete
// executions in one Mazurkiewicz trace). Completeness is checked against seeded random schedules: a final state
// random sampling reaches and DPOR does not means a transition touched state its footprint did not declare.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Dpor } from '../../src/engine/dpor.js';
import { type ExecutionResult, runExecution } from '../../src/engine/execution.js';
import { explore } from '../../src/engine/explore.js';
import type { Program } from '../../src/engine/program.js';
import { Rng } from '../../src/engine/random.js';
import { snapshotKernel } from '../../src/trace/state.js';
import { LIBRARY, program } from './helpers.js';

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));

function finalState(r: ExecutionResult): string {
  return createHash('sha1')
    .update(json(snapshotKernel(r.world.k)))
    .update(json(r.threadResults))
    .update(json(r.afterResults))
    .digest('base64');
}

function dporFinalStates(p: Program): Set<string> {
  const d = new Dpor(p.threads.length);
  const out = new Set<string>();
  for (;;) {
    const { choose, beforeStep } = d.nextExecution();
    const r = runExecution(p, choose, { beforeStep });
    if (r.status !== 'pruned') out.add(finalState(r));
    if (!d.finish(r)) return out;
  }
}

describe('DPOR completeness against random schedules', () => {
  for (const name of LIBRARY) {
    it(name, () => {
      const p = program(name);
      const reached = dporFinalStates(p);
      const rng = new Rng(20261125);
      const missed: number[][] = [];
      for (let i = 0; i < 300 && missed.length === 0; i++) {
        const r = runExecution(p, (_w, _d, en) => en[rng.below(en.length)]);
        if (!reached.has(finalState(r))) missed.push(r.schedule);
      }
      expect(missed, 'a schedule whose final state DPOR never reached').toEqual([]);
    });
  }
});

describe('DPOR without redundancy', () => {
  for (const name of LIBRARY) {
    it(`${name}: every complete execution is its own Mazurkiewicz trace`, () => {
      const r = explore(program(name), { countTraces: true, shrink: false });
      expect(r.complete).toBe(true);
      expect(r.traces).toBe(r.executions - r.pruned);
    });
  }

  it('explores far fewer schedules than naive enumeration', () => {
    const p = program('madvise-vs-host-access');
    const dpor = explore(p, { shrink: false });
    const naive = explore(p, { strategy: 'naive', maxExecutions: 2000, shrink: false });
    expect(dpor.complete).toBe(true);
    expect(naive.complete).toBe(false);
    expect(dpor.executions * 50).toBeLessThan(naive.executions);
  });
});
