// Messages between the page and the loader worker. The worker downloads and parses documents (a big state
// trace is hundreds of megabytes of JSON) and keeps the per-event kernel states; the page asks for one state at
// a time, so neither parsing nor holding them ever blocks the UI thread.
import type { RunBundle } from '../api/bundle.js';
import type { HappensBefore, VariantTable, Violation } from '../api/ui-formats.js';
import type { Timeline } from '../trace/slices.js';
import type { KernelState } from '../trace/state.js';

export type LoadSource =
  | { readonly kind: 'url'; readonly url: string; readonly body?: string }
  | { readonly kind: 'file'; readonly file: File }
  | { readonly kind: 'text'; readonly text: string };

export type ToWorker =
  | { readonly id: number; readonly type: 'load'; readonly source: LoadSource }
  | { readonly id: number; readonly type: 'state'; readonly doc: number; readonly index: number }
  | { readonly id: number; readonly type: 'export'; readonly doc: number };

/** A run or counterexample without its states, which stay in the worker. */
export type RunView = Omit<RunBundle, 'states' | 'initial' | 'format'> & {
  readonly format: RunBundle['format'] | 'gmemsim-counterexample/1';
  readonly violation?: Violation;
  readonly happensBefore?: readonly HappensBefore[];
};

export interface ErrorInfo {
  readonly code?: string;
  readonly title?: string;
  readonly message: string;
  readonly diagnostics?: ReadonlyArray<{
    readonly code: string;
    readonly message: string;
    readonly loc?: { readonly file: string; readonly line: number; readonly col: number };
    readonly hint?: string;
  }>;
}

export type Phase = 'download' | 'parse' | 'index' | 'transfer';

export type FromWorker =
  | {
      readonly id: number;
      readonly type: 'progress';
      readonly phase: Phase;
      readonly loaded: number;
      readonly total: number | null;
    }
  /** the run without its events, which follow in 'events' chunks (one big message would block the page) */
  | {
      readonly id: number;
      readonly type: 'run';
      readonly doc: number;
      readonly run: RunView;
      readonly timeline: Timeline;
      readonly eventCount: number;
    }
  | { readonly id: number; readonly type: 'events'; readonly events: RunView['events'] }
  | { readonly id: number; readonly type: 'variants'; readonly table: VariantTable }
  /** JSON or YAML that is not a gmemsim document: the page sends it to the server as a scenario */
  | { readonly id: number; readonly type: 'not-document'; readonly text: string }
  | { readonly id: number; readonly type: 'error'; readonly status: number; readonly error: ErrorInfo }
  | { readonly id: number; readonly type: 'state'; readonly state: KernelState }
  | { readonly id: number; readonly type: 'export'; readonly blob: Blob };
