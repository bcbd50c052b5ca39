// The documents the web visualizer reads besides a plain run: a counterexample found by the concurrency explorer
// and the variant × property table of a scenario. The explorer produces them (src/api/explore-ui.ts); the
// server, the Perfetto exporter and the browser app read exactly these shapes, so they live here, types only,
// with the small structural checks every reader of untrusted JSON needs.
import type { RunBundle } from './bundle.js';

export interface Violation {
  /** a GMEM4xxx property code */
  readonly code: string;
  readonly title: string;
  readonly message: string;
  /** the scenario thread the violation is charged to, if any */
  readonly thread?: string;
  /** replays this execution */
  readonly token: string;
}

/** One happens-before edge between two trace events, by their `seq`. */
export interface HappensBefore {
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

export type CounterexampleBundle = Omit<RunBundle, 'format'> & {
  readonly format: 'gmemsim-counterexample/1';
  readonly violation: Violation;
  readonly happensBefore: readonly HappensBefore[];
};

/**
 * "holds" only when every interleaving was explored; "unknown" when the search was bounded or interrupted before
 * finding a violation.
 */
export type PropertyStatus = 'holds' | 'violated' | 'unknown' | 'n/a';

export interface VariantResult {
  readonly status: PropertyStatus;
  readonly token?: string;
  readonly executions?: number;
}

export interface VariantTable {
  readonly format: 'gmemsim-variants/1';
  readonly scenario: string;
  /** the scenario file, for replaying a cell's token */
  readonly file?: string;
  readonly properties: ReadonlyArray<{ readonly code: string; readonly title: string }>;
  readonly rows: ReadonlyArray<{
    readonly variant: string;
    readonly mm: string;
    /** every interleaving was explored */
    readonly complete?: boolean;
    readonly executions?: number;
    readonly results: Readonly<Record<string, VariantResult>>;
  }>;
}

/** Anything the visualizer can open. */
export type ViewerDocument = RunBundle | CounterexampleBundle | VariantTable;

export const RUN_FORMAT = 'gmemsim-run/1';
export const COUNTEREXAMPLE_FORMAT = 'gmemsim-counterexample/1';
export const VARIANTS_FORMAT = 'gmemsim-variants/1';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks the parts of a document that the viewers index into, and says what is wrong in words. It is not a full
 * schema check: a file that passes can still lack optional detail, and the views tolerate that.
 */
export function documentProblem(v: unknown): string | undefined {
  if (!isObject(v)) return 'not a JSON object';
  const f = v.format;
  if (f === RUN_FORMAT || f === COUNTEREXAMPLE_FORMAT) {
    if (!Array.isArray(v.events)) return '`events` is not a list';
    if (!Array.isArray(v.states)) return '`states` is not a list';
    if (v.states.length !== v.events.length) return '`states` and `events` differ in length';
    if (!Array.isArray(v.threads)) return '`threads` is not a list';
    if (!Array.isArray(v.steps)) return '`steps` is not a list';
    if (!isObject(v.initial)) return '`initial` is missing';
    for (let i = 0; i < v.events.length; i++) {
      const e = v.events[i] as Record<string, unknown>;
      if (!isObject(e) || e.seq !== i || typeof e.tid !== 'number' || typeof e.name !== 'string')
        return `events[${i}] is not a trace event with seq ${i}`;
    }
    if (f === COUNTEREXAMPLE_FORMAT) {
      if (!isObject(v.violation) || typeof v.violation.code !== 'string') return '`violation` is missing';
      if (!Array.isArray(v.happensBefore)) return '`happensBefore` is not a list';
      for (const h of v.happensBefore) {
        if (!isObject(h) || typeof h.from !== 'number' || typeof h.to !== 'number')
          return 'a happens-before edge lacks `from`/`to`';
        if (h.from < 0 || h.to < 0 || h.from >= v.events.length || h.to >= v.events.length)
          return `happens-before edge ${h.from} → ${h.to} names no event`;
      }
    }
    return undefined;
  }
  if (f === VARIANTS_FORMAT) {
    if (!Array.isArray(v.properties)) return '`properties` is not a list';
    if (!Array.isArray(v.rows)) return '`rows` is not a list';
    for (const r of v.rows) if (!isObject(r) || !isObject(r.results)) return 'a row lacks `results`';
    return undefined;
  }
  return typeof f === 'string' ? `unknown format "${f}"` : 'no `format` field: not a gmemsim document';
}
