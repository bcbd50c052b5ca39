// Combining the results of independent shards (or worker threads) of one exploration.
import { GmemsimError } from '../diagnostics/errors.js';
import type { ExploreResult, OutcomeReport, ViolationReport } from './explore.js';

export function mergeResults(parts: readonly ExploreResult[]): ExploreResult {
  if (parts.length === 0) throw new GmemsimError({ code: 'GMEM5002', message: 'nothing to merge' });
  const first = parts[0];
  for (const p of parts) {
    if (
      p.scenario !== first.scenario ||
      JSON.stringify(p.options) !== JSON.stringify(first.options) ||
      p.strategy !== first.strategy
    ) {
      throw new GmemsimError({
        code: 'GMEM5002',
        message: `cannot merge results of different explorations (${p.file} vs ${first.file})`,
      });
    }
  }
  const shards = parts.map((p) => p.shard);
  const count = shards[0]?.count;
  const covered = new Set(shards.map((s) => s?.index));
  const allShards = count !== undefined && shards.every((s) => s?.count === count) && covered.size === count;
  const outcomes = new Map<string, OutcomeReport>();
  for (const p of parts) {
    for (const o of p.outcomes) {
      const key = JSON.stringify(o.threads);
      const prev = outcomes.get(key);
      outcomes.set(key, { threads: o.threads, count: (prev?.count ?? 0) + o.count });
    }
  }
  const best = new Map<string, ViolationReport>();
  for (const p of parts) {
    for (const v of p.violations) {
      const b = best.get(v.code);
      const occurrences = (b?.occurrences ?? 0) + v.occurrences;
      if (!b || v.preemptions < b.preemptions || (v.preemptions === b.preemptions && v.length < b.length))
        best.set(v.code, { ...v, occurrences });
      else best.set(v.code, { ...b, occurrences });
    }
  }
  const interrupted = parts.map((p) => p.interrupted).filter(Boolean);
  const { shard: _shard, ...rest } = first;
  return {
    ...rest,
    executions: parts.reduce((a, p) => a + p.executions, 0),
    pruned: parts.reduce((a, p) => a + p.pruned, 0),
    transitions: parts.reduce((a, p) => a + p.transitions, 0),
    seconds: Math.max(...parts.map((p) => p.seconds)),
    complete: allShards && parts.every((p) => p.complete),
    outcomes: [...outcomes.values()],
    violations: [...best.values()].sort((a, b) => a.code.localeCompare(b.code)),
    ...(interrupted.length ? { interrupted: interrupted.join('; ') } : {}),
  };
}
