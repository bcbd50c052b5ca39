// Sharding: N independent shards cover the space exactly once between them, and merging their results gives
// the outcomes and violations of one whole search.
import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.js';
import { mergeResults } from '../../src/engine/merge.js';
import { program } from './helpers.js';

const outcomeSet = (r: ReturnType<typeof explore>) =>
  new Map(r.outcomes.map((o) => [JSON.stringify(o.threads), o.count]));

describe('shards', () => {
  for (const [name, options] of [
    ['fault-vs-mf', { error_handler: 'rfc-2023' }],
    ['mf-vs-punch', {}],
    ['punch-vs-fault', {}],
  ] as const) {
    for (const count of [2, 3]) {
      it(`${name}: ${count} shards merge into the whole search`, () => {
        const p = program(name, options);
        const whole = explore(p, { countTraces: true });
        const parts = Array.from({ length: count }, (_, index) =>
          explore(p, { shard: { index, count }, countTraces: true }),
        );
        const merged = mergeResults(parts);
        expect(merged.complete).toBe(true);
        expect(outcomeSet(merged)).toEqual(outcomeSet(whole));
        expect(merged.violations.map((v) => v.code)).toEqual(whole.violations.map((v) => v.code));
        // each shard explores its own traces: no execution is repeated across shards
        expect(parts.reduce((n, r) => n + (r.traces ?? 0), 0)).toBe(whole.traces);
      });
    }
  }

  it('a missing shard leaves the merge incomplete', () => {
    const p = program('mf-vs-punch');
    const merged = mergeResults([
      explore(p, { shard: { index: 0, count: 3 } }),
      explore(p, { shard: { index: 2, count: 3 } }),
    ]);
    expect(merged.complete).toBe(false);
  });
});
