// How the page reduces a counterexample's happens-before edges for display (pure logic: no browser needed).
import { describe, expect, it } from 'vitest';
import { dedupeEdges, essentialEdges } from '../../src/web/edges.js';

// events 0..3 on thread A (tid 1), 4..7 on thread B (tid 2)
const tidOf = (seq: number) => (seq < 4 ? 1 : 2);

describe('happens-before edges for display', () => {
  it('merges repeated edges and keeps each reason once', () => {
    expect(
      dedupeEdges([
        { from: 1, to: 5, reason: 'write then read of x' },
        { from: 1, to: 5, reason: 'write then read of x' },
        { from: 1, to: 5, reason: 'write then write of y' },
        { from: 0, to: 6, reason: 'z' },
      ]),
    ).toEqual([
      { from: 0, to: 6, reason: 'z' },
      { from: 1, to: 5, reason: 'write then read of x; write then write of y' },
    ]);
  });

  it('drops edges implied through program order, keeps crossing ones', () => {
    const edges = [
      { from: 1, to: 5, reason: 'implied by 2 → 4 (1 before 2 on A, 4 before 5 on B)' },
      { from: 0, to: 6, reason: 'implied' },
      { from: 1, to: 7, reason: 'implied' },
      { from: 6, to: 3, reason: 'the other direction' },
      { from: 2, to: 4, reason: 'essential' },
      { from: 3, to: 4, reason: 'also essential: starts later' },
    ];
    expect(essentialEdges(edges, tidOf).map((e) => e.reason)).toEqual([
      'the other direction',
      'also essential: starts later',
    ]);
    // 2 → 4 is implied by 3 → 4 as well; without it, 2 → 4 is what remains
    expect(essentialEdges(edges.slice(0, 5), tidOf).map((e) => e.reason)).toEqual(['the other direction', 'essential']);
  });
});
