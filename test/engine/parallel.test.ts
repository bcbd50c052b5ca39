// Parallel DPOR: the search split into tasks (run in-process here, in rounds as on the worker pool) covers the
// same Mazurkiewicz traces as the sequential search, finds the same outcomes and violations, and gives the same
// result every time. Tiny task budgets force many hand-overs of shared nodes.
import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.js';
import { exploreInParallel, type ParallelTask, runParallelTask } from '../../src/engine/parallel.js';
import type { Program } from '../../src/engine/program.js';
import { program, timeless } from './helpers.js';

const outcomeSet = (r: ReturnType<typeof explore>) =>
  new Map(r.outcomes.map((o) => [JSON.stringify(o.threads), o.count]));

function inline(p: Program, budget: number, tasks?: ParallelTask[]) {
  return exploreInParallel(p, { countTraces: true }, async (t) => {
    tasks?.push(t);
    return runParallelTask(p, { countTraces: true }, t, budget);
  });
}

describe('parallel DPOR', () => {
  for (const [name, options] of [
    ['fault-vs-mf', { error_handler: 'rfc-2023' }],
    ['mf-vs-punch', {}],
    ['mf-vs-gmem-close', {}],
    ['punch-vs-fault', {}],
    ['fault-vs-conversion', {}],
  ] as const) {
    for (const budget of [7, 60]) {
      it(`${name}, tasks of ${budget} executions: the same traces, outcomes and violations`, async () => {
        const p = program(name, options);
        const whole = explore(p, { countTraces: true });
        const tasks: ParallelTask[] = [];
        const par = await inline(p, budget, tasks);
        expect(tasks.length).toBeGreaterThan(3);
        expect(par.complete).toBe(true);
        expect(par.traces).toBe(whole.traces);
        expect(outcomeSet(par)).toEqual(outcomeSet(whole));
        expect(par.violations.map((v) => v.code)).toEqual(whole.violations.map((v) => v.code));
        // no Mazurkiewicz trace is explored twice across tasks (within the redundancy sequential DPOR has)
        expect(par.executions - par.pruned).toBeLessThanOrEqual(whole.executions - whole.pruned + 2);
      });
    }
  }

  it('gives the same result, counterexamples included, every time', async () => {
    const p = program('fault-vs-mf', { error_handler: 'original-2023' });
    const a = await inline(p, 25);
    const b = await inline(p, 25);
    expect(timeless(a)).toEqual(timeless(b));
    expect(a.violations.length).toBeGreaterThan(0);
  });

  it('stops between rounds at --max-executions with a partial result', async () => {
    const p = program('fault-vs-mf');
    const r = await exploreInParallel(p, { maxExecutions: 500 }, async (t) => runParallelTask(p, {}, t, 100));
    expect(r.complete).toBe(false);
    expect(r.interrupted).toMatch(/max-executions/);
  });
});
