/// <reference lib="dom" />
// The page's side of the loader worker: load a document with progress, then fetch kernel states by event index
// with a small cache (stepping back and forth revisits the same few states).
import type { VariantTable } from '../api/ui-formats.js';
import type { Timeline } from '../trace/slices.js';
import type { KernelState } from '../trace/state.js';
import type { ErrorInfo, FromWorker, LoadSource, Phase, RunView, ToWorker } from './protocol.js';

export class LoadError extends Error {
  constructor(
    readonly status: number,
    readonly info: ErrorInfo,
  ) {
    super(info.message);
  }
}

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export type Loaded =
  | { readonly kind: 'run'; readonly doc: number; readonly run: RunView; readonly timeline: Timeline }
  | { readonly kind: 'variants'; readonly table: VariantTable }
  | { readonly kind: 'not-document'; readonly text: string };

export type ProgressFn = (phase: Phase, loaded: number, total: number | null) => void;

interface Pending {
  resolve(m: FromWorker): void;
  reject(e: Error): void;
  progress?: ProgressFn;
  /** a run whose events are still arriving */
  partial?: { m: Extract<FromWorker, { type: 'run' }>; events: Array<RunView['events'][number]> };
}

const CACHE = 64;

/** Omit that keeps a union a union. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class DocClient {
  private worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly cache = new Map<string, KernelState>();

  constructor() {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./loader.worker.ts', import.meta.url), { type: 'module', name: 'gmemsim-loader' });
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') {
        p.progress?.(m.phase, m.loaded, m.total);
        return;
      }
      if (m.type === 'run' && m.eventCount > 0) {
        p.partial = { m, events: [] };
        return;
      }
      if (m.type === 'events' && p.partial) {
        for (const e of m.events) p.partial.events.push(e);
        const got = p.partial.events.length;
        p.progress?.('transfer', got, p.partial.m.eventCount);
        if (got < p.partial.m.eventCount) return;
        this.pending.delete(m.id);
        p.resolve({ ...p.partial.m, run: { ...p.partial.m.run, events: p.partial.events } });
        return;
      }
      this.pending.delete(m.id);
      if (m.type === 'error') p.reject(new LoadError(m.status, m.error));
      else p.resolve(m);
    };
    w.onerror = (e) => {
      for (const p of this.pending.values()) p.reject(new LoadError(0, { message: `loader failed: ${e.message}` }));
      this.pending.clear();
    };
    return w;
  }

  private ask(msg: WithoutId<ToWorker>, progress?: ProgressFn): Promise<FromWorker> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, progress });
      this.worker.postMessage({ ...msg, id } as ToWorker);
    });
  }

  async load(source: LoadSource, progress?: ProgressFn): Promise<Loaded> {
    const m = await this.ask({ type: 'load', source }, progress);
    if (m.type === 'run') {
      this.cache.clear();
      return { kind: 'run', doc: m.doc, run: m.run, timeline: m.timeline };
    }
    if (m.type === 'variants') return { kind: 'variants', table: m.table };
    if (m.type === 'not-document') return { kind: 'not-document', text: m.text };
    throw new Error(`unexpected loader reply ${m.type}`);
  }

  /** Stops a load in progress: the worker is replaced, so its parse stops too. */
  cancel(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Cancelled());
    this.pending.clear();
    this.cache.clear();
    this.worker = this.spawn();
  }

  async state(doc: number, index: number): Promise<KernelState> {
    const key = `${doc}:${index}`;
    const hit = this.cache.get(key);
    if (hit) {
      // refresh its place in the LRU order
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const m = await this.ask({ type: 'state', doc, index });
    if (m.type !== 'state') throw new Error('unexpected loader reply');
    this.cache.set(key, m.state);
    if (this.cache.size > CACHE) this.cache.delete(this.cache.keys().next().value!);
    return m.state;
  }

  async exportFull(doc: number): Promise<Blob> {
    const m = await this.ask({ type: 'export', doc });
    if (m.type !== 'export') throw new Error('unexpected loader reply');
    return m.blob;
  }
}
