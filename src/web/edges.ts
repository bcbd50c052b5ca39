// Happens-before edges as a person reads them. An explorer reports every dependent pair of transitions, so one
// race can come with a dozen edges, many repeated or implied by others. Repeats are merged; and since program
// order holds within a thread, an edge a → d is implied by an edge b → c when a is b or earlier on its thread
// and c is d or earlier on its thread. The essential edges are those no other edge implies.
import type { HappensBefore } from '../api/ui-formats.js';

/** Merges edges between the same two events, keeping each distinct reason once. */
export function dedupeEdges(edges: readonly HappensBefore[]): HappensBefore[] {
  const byPair = new Map<string, { from: number; to: number; reasons: string[] }>();
  for (const e of edges) {
    const k = `${e.from}>${e.to}`;
    const m = byPair.get(k);
    if (!m) byPair.set(k, { from: e.from, to: e.to, reasons: [e.reason] });
    else if (!m.reasons.includes(e.reason)) m.reasons.push(e.reason);
  }
  return [...byPair.values()]
    .map((m) => ({ from: m.from, to: m.to, reason: m.reasons.join('; ') }))
    .sort((a, b) => a.from - b.from || a.to - b.to);
}

/** The edges that no other edge implies through program order (`tidOf` gives an event's thread). */
export function essentialEdges(edges: readonly HappensBefore[], tidOf: (seq: number) => number): HappensBefore[] {
  return edges.filter(
    (e) =>
      !edges.some(
        (g) =>
          g !== e && tidOf(g.from) === tidOf(e.from) && tidOf(g.to) === tidOf(e.to) && g.from >= e.from && g.to <= e.to,
      ),
  );
}

/** Up to this many distinct edges are all shown; beyond, only the essential ones unless asked. */
export const SHOW_ALL_EDGES_UP_TO = 8;
