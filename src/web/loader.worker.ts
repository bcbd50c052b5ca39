/// <reference lib="dom" />
// The loader worker: streams a document in with progress, parses it, checks its shape, builds the timeline
// model, and then answers the page's requests for the kernel state at one event. JSON.parse of a big trace takes
// seconds; here it never freezes the page.
import type { RunBundle } from '../api/bundle.js';
import { type CounterexampleBundle, documentProblem, VARIANTS_FORMAT, type VariantTable } from '../api/ui-formats.js';
import { buildTimeline } from '../trace/slices.js';
import type { KernelState } from '../trace/state.js';
import type { ErrorInfo, FromWorker, LoadSource, Phase, RunView, ToWorker } from './protocol.js';

const port = self as unknown as {
  postMessage(m: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};

const EVENT_CHUNK = 4000;

let current:
  | { doc: number; initial: KernelState; states: readonly KernelState[]; full: RunBundle | CounterexampleBundle }
  | undefined;

function progress(id: number, phase: Phase, loaded: number, total: number | null): void {
  port.postMessage({ id, type: 'progress', phase, loaded, total });
}

/** Reads a byte stream to text, reporting progress at most every 50 ms. */
async function readStream(id: number, body: ReadableStream<Uint8Array>, total: number | null): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let loaded = 0;
  let last = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    loaded += value.byteLength;
    parts.push(decoder.decode(value, { stream: true }));
    const now = performance.now();
    if (now - last > 50) {
      last = now;
      progress(id, 'download', loaded, total);
    }
  }
  parts.push(decoder.decode());
  progress(id, 'download', loaded, total ?? loaded);
  return parts.join('');
}

async function fetchText(id: number, src: LoadSource): Promise<string | { status: number; error: ErrorInfo }> {
  if (src.kind === 'text') return src.text;
  if (src.kind === 'file') return readStream(id, src.file.stream(), src.file.size);
  const res = await fetch(src.url, {
    method: src.body === undefined ? 'GET' : 'POST',
    headers: src.body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: src.body,
  });
  if (!res.ok) {
    const text = await res.text();
    try {
      const e = (JSON.parse(text) as { error: ErrorInfo }).error;
      if (e && typeof e.message === 'string') return { status: res.status, error: e };
    } catch {
      // not one of our JSON errors: fall through
    }
    return { status: res.status, error: { message: `HTTP ${res.status}: ${text.slice(0, 200)}` } };
  }
  const len = Number(res.headers.get('Content-Length'));
  return readStream(id, res.body!, Number.isFinite(len) && len > 0 ? len : null);
}

async function load(id: number, src: LoadSource): Promise<void> {
  const got = await fetchText(id, src);
  if (typeof got !== 'string') {
    port.postMessage({ id, type: 'error', ...got });
    return;
  }
  // A document is JSON with a gmemsim format. Anything else (YAML, a scenario written as JSON) goes back to
  // the page, which sends it to the server as a scenario.
  if (src.kind !== 'url' && (!/^\s*\{/.test(got) || !got.includes('"format"'))) {
    port.postMessage({ id, type: 'not-document', text: got });
    return;
  }
  progress(id, 'parse', 0, null);
  let v: unknown;
  try {
    v = JSON.parse(got);
  } catch (e) {
    if (src.kind !== 'url') port.postMessage({ id, type: 'not-document', text: got });
    else port.postMessage({ id, type: 'error', status: 0, error: { message: `not JSON: ${String(e)}` } });
    return;
  }
  if (src.kind !== 'url' && !(typeof v === 'object' && v !== null && 'format' in v)) {
    port.postMessage({ id, type: 'not-document', text: got });
    return;
  }
  const problem = documentProblem(v);
  if (problem) {
    port.postMessage({
      id,
      type: 'error',
      status: 0,
      error: { message: `This is not a gmemsim document: ${problem}.` },
    });
    return;
  }
  if ((v as { format: string }).format === VARIANTS_FORMAT) {
    port.postMessage({ id, type: 'variants', table: v as VariantTable });
    return;
  }
  progress(id, 'index', 0, null);
  const full = v as RunBundle | CounterexampleBundle;
  const { states, initial, ...rest } = full;
  current = { doc: id, initial, states, full };
  const timeline = buildTimeline(full.events, full.threads);
  // Receiving a message is one task on the page's thread; tens of thousands of events in one message would
  // freeze it for a second, so they go in chunks the page takes one at a time between frames.
  const { events, ...head } = rest;
  port.postMessage({
    id,
    type: 'run',
    doc: id,
    run: { ...head, events: [] } as RunView,
    timeline,
    eventCount: events.length,
  });
  for (let i = 0; i < events.length; i += EVENT_CHUNK)
    port.postMessage({ id, type: 'events', events: events.slice(i, i + EVENT_CHUNK) });
}

port.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'load') {
    load(m.id, m.source).catch((err: unknown) =>
      port.postMessage({
        id: m.id,
        type: 'error',
        status: 0,
        error: { message: err instanceof Error ? err.message : String(err) },
      }),
    );
  } else if (m.type === 'state') {
    if (!current || current.doc !== m.doc) {
      port.postMessage({ id: m.id, type: 'error', status: 0, error: { message: 'that document is no longer loaded' } });
      return;
    }
    const state = m.index < 0 ? current.initial : current.states[Math.min(m.index, current.states.length - 1)];
    port.postMessage({ id: m.id, type: 'state', state });
  } else if (m.type === 'export') {
    if (!current || current.doc !== m.doc) {
      port.postMessage({ id: m.id, type: 'error', status: 0, error: { message: 'that document is no longer loaded' } });
      return;
    }
    const blob = new Blob([JSON.stringify(current.full)], { type: 'application/json' });
    port.postMessage({ id: m.id, type: 'export', blob });
  }
};
