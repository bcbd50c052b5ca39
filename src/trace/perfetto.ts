// Exports a run (or a counterexample) as Chrome/Perfetto trace-event JSON: one track per thread, steps and lock
// holds as complete slices ("X") nested properly on it, every other event as a thread-scoped instant ("i"), and a
// counterexample's happens-before edges as flow arrows ("s"/"f"). Open it at ui.perfetto.dev or chrome://tracing.
//
// Times are the model's logical clock (one microsecond per event), so durations count events, not real time.
import type { RunBundle } from '../api/bundle.js';
import type { CounterexampleBundle } from '../api/ui-formats.js';
import { buildTimeline } from './slices.js';
import type { TraceEvent } from './tracer.js';

export interface TraceEventJson {
  name: string;
  cat?: string;
  ph: 'X' | 'i' | 'M' | 's' | 'f';
  /** microseconds */
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  /** scope of an instant: thread */
  s?: 't';
  /** flow id */
  id?: number;
  /** flow end binds to the enclosing slice */
  bp?: 'e';
  args?: Record<string, unknown>;
}

export interface PerfettoTrace {
  traceEvents: TraceEventJson[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string>;
}

interface Interval {
  begin: number;
  end: number;
  name: string;
  cat: string;
  args: Record<string, unknown>;
}

/**
 * Perfetto drops or misplaces slices on a track that overlap without nesting. Steps contain their holds, but
 * hand-over-hand locking (acquire A, acquire B, release A) makes two holds cross. A crossing interval is cut at
 * the end of the one it crosses and continues right after it, marked `continued`, so each part nests and both
 * the acquire and the release keep their exact times.
 */
export function nestIntervals(input: readonly Interval[]): Interval[] {
  const pending = [...input].sort((a, b) => a.begin - b.begin || b.end - a.end);
  const out: Interval[] = [];
  const stack: Interval[] = [];
  while (pending.length > 0) {
    const cur = pending.shift()!;
    while (stack.length > 0 && stack[stack.length - 1].end <= cur.begin) stack.pop();
    const top = stack[stack.length - 1];
    if (top && cur.end > top.end) {
      const head = { ...cur, end: top.end, args: { ...cur.args, cut: true } };
      const tail = { ...cur, begin: top.end, args: { ...cur.args, continued: true } };
      out.push(head);
      stack.push(head);
      let i = 0;
      while (
        i < pending.length &&
        (pending[i].begin < tail.begin || (pending[i].begin === tail.begin && pending[i].end >= tail.end))
      )
        i++;
      pending.splice(i, 0, tail);
    } else {
      out.push(cur);
      stack.push(cur);
    }
  }
  return out;
}

const us = (e: TraceEvent) => e.ts / 1000;

export function toPerfetto(b: RunBundle | CounterexampleBundle): PerfettoTrace {
  const ev = b.events;
  const tl = buildTimeline(ev, b.threads);
  const pid = b.threads[0]?.tid ?? 1;
  const out: TraceEventJson[] = [
    { name: 'process_name', ph: 'M', pid, tid: pid, args: { name: `gmemsim: ${b.scenario.name}` } },
  ];
  tl.threads.forEach((t, i) => {
    out.push({ name: 'thread_name', ph: 'M', pid, tid: t.tid, args: { name: `${t.name} (${t.comm})` } });
    out.push({ name: 'thread_sort_index', ph: 'M', pid, tid: t.tid, args: { sort_index: i } });
  });
  // An interval ending at the last event would have no event after it to mark time; give every slice its end
  // event's timestamp, which exists because both ends are events.
  const at = (seq: number) => us(ev[seq]);
  for (const t of tl.threads) {
    const intervals: Interval[] = [
      ...t.steps.map((s) => ({
        begin: s.begin,
        end: s.end,
        name: s.op || `step ${s.step}`,
        cat: 'gmemsim.step',
        args: { step: s.step, ...(s.unfinished ? { unfinished: true } : {}) },
      })),
      ...t.holds.map((h) => ({
        begin: h.begin,
        end: h.end,
        name: h.shared ? `${h.label} (shared)` : h.label,
        cat: 'gmemsim.lock',
        args: { lock: h.lock, shared: h.shared, ...(h.unreleased ? { unreleased: true } : {}) },
      })),
    ];
    for (const iv of nestIntervals(intervals)) {
      out.push({
        name: iv.name,
        cat: iv.cat,
        ph: 'X',
        ts: at(iv.begin),
        dur: at(iv.end) - at(iv.begin),
        pid,
        tid: t.tid,
        args: iv.args,
      });
    }
    for (const seq of t.marks) {
      const e = ev[seq];
      out.push({
        name: e.name,
        cat: e.system,
        ph: 'i',
        s: 't',
        ts: us(e),
        pid,
        tid: t.tid,
        args: { seq, text: e.text, ...(e.args ?? {}) },
      });
    }
    for (const seq of t.strayReleases) {
      const e = ev[seq];
      out.push({
        name: 'lock_release (acquire not traced)',
        cat: 'gmemsim.lock',
        ph: 'i',
        s: 't',
        ts: us(e),
        pid,
        tid: t.tid,
        args: { seq, text: e.text },
      });
    }
  }
  if (b.format === 'gmemsim-counterexample/1') {
    b.happensBefore.forEach((h, id) => {
      const from = ev[h.from];
      const to = ev[h.to];
      if (!from || !to) return;
      out.push({ name: 'happens-before', cat: 'gmemsim.hb', ph: 's', id, ts: us(from), pid, tid: from.tid });
      out.push({
        name: 'happens-before',
        cat: 'gmemsim.hb',
        ph: 'f',
        bp: 'e',
        id,
        ts: us(to),
        pid,
        tid: to.tid,
        args: { reason: h.reason },
      });
    });
    const v = b.violation;
    const last = ev[ev.length - 1];
    const tid = tl.threads.find((t) => t.name === v.thread)?.tid ?? last?.tid ?? pid;
    if (last) {
      out.push({
        name: `violation ${v.code}: ${v.title}`,
        cat: 'gmemsim.violation',
        ph: 'i',
        s: 't',
        // Just after the last event, so the mark never sits on a slice boundary.
        ts: us(last) + 0.5,
        pid,
        tid,
        args: { message: v.message, token: v.token },
      });
    }
  }
  return {
    traceEvents: out,
    displayTimeUnit: 'ns',
    otherData: {
      generator: 'gmemsim',
      scenario: b.scenario.name,
      options: Object.entries(b.options)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' '),
      clock: 'logical: one microsecond per model event',
    },
  };
}
