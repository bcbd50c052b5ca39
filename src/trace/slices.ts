// Turns a flat event list into what a timeline draws: per thread, the steps as spans, lock holds as spans, and
// everything else as instant marks. The web timeline and the Perfetto exporter share it so that both show the
// same thing.
import type { TraceEvent } from './tracer.js';

export interface StepSpan {
  readonly tid: number;
  readonly step: number;
  readonly op: string;
  /** seq of its step_begin */
  readonly begin: number;
  /** seq of its step_end, or of the last event when the trace ends inside the step */
  readonly end: number;
  /** the trace ended before the step did (a blocked thread in a counterexample, a panic) */
  readonly unfinished: boolean;
}

export interface LockHold {
  readonly tid: number;
  /** the lock's identity in trace args, e.g. "mmu_lock:1" */
  readonly lock: string;
  /** the name the kernel would print, e.g. "kvm1->mmu_lock" */
  readonly label: string;
  readonly shared: boolean;
  /** seq of the lock_acquire */
  readonly begin: number;
  /** seq of the lock_release, or where the hold was cut (step end, trace end) */
  readonly end: number;
  /** no release was traced before the step (or the trace) ended */
  readonly unreleased: boolean;
  /** the row to draw it in among this thread's holds: 0 for the outermost, nested holds go deeper */
  readonly row: number;
}

export interface ThreadTimeline {
  readonly tid: number;
  readonly name: string;
  readonly comm: string;
  readonly steps: StepSpan[];
  readonly holds: LockHold[];
  /** seqs of instant events: tracepoints, printk lines, syscall entry/exit, model events */
  readonly marks: number[];
  /** seqs of lock_release events with no traced acquire (the model took the lock without a tracepoint) */
  readonly strayReleases: number[];
  /** how many rows its holds need (0 when the thread holds nothing) */
  readonly holdRows: number;
}

export interface Timeline {
  readonly threads: ThreadTimeline[];
  readonly length: number;
}

/** Strips the " exclusive"/" shared" suffix the lock events print. */
function lockLabel(e: TraceEvent): string {
  return e.text.replace(/ (exclusive|shared)$/, '');
}

interface OpenHold {
  lock: string;
  label: string;
  shared: boolean;
  begin: number;
}

interface Builder {
  t: ThreadTimeline;
  step: { step: number; op: string; begin: number } | null;
  holds: OpenHold[];
}

export function isStructuralEvent(e: TraceEvent): boolean {
  return (
    e.system === 'gmemsim' &&
    (e.name === 'step_begin' || e.name === 'step_end' || e.name === 'lock_acquire' || e.name === 'lock_release')
  );
}

export function buildTimeline(
  events: readonly TraceEvent[],
  threads: ReadonlyArray<{ tid: number; name: string; comm: string }>,
): Timeline {
  const byTid = new Map<number, Builder>();
  const mk = (tid: number, name: string, comm: string): Builder => {
    const b: Builder = {
      t: { tid, name, comm, steps: [], holds: [], marks: [], strayReleases: [], holdRows: 0 },
      step: null,
      holds: [],
    };
    byTid.set(tid, b);
    return b;
  };
  for (const th of threads) if (!byTid.has(th.tid)) mk(th.tid, th.name, th.comm);
  const closeHold = (b: Builder, h: OpenHold, end: number, unreleased: boolean) => {
    (b.t.holds as LockHold[]).push({
      tid: b.t.tid,
      lock: h.lock,
      label: h.label,
      shared: h.shared,
      begin: h.begin,
      end,
      unreleased,
      row: 0,
    });
  };
  for (const e of events) {
    // Threads the bundle does not list still get a lane: hiding their events would hide the bug.
    const b = byTid.get(e.tid) ?? mk(e.tid, `tid ${e.tid}`, 'task');
    if (e.system !== 'gmemsim') {
      b.t.marks.push(e.seq);
      continue;
    }
    switch (e.name) {
      case 'step_begin':
        if (b.step) b.t.steps.push({ tid: e.tid, ...b.step, end: e.seq, unfinished: true });
        b.step = { step: Number(e.args?.step ?? b.t.steps.length), op: String(e.args?.op ?? ''), begin: e.seq };
        break;
      case 'step_end':
        // A hold that outlives its step would be a lock leaked to userspace; cut it here so spans stay nested.
        for (const h of b.holds.reverse()) closeHold(b, h, e.seq, true);
        b.holds = [];
        if (b.step) b.t.steps.push({ tid: e.tid, ...b.step, end: e.seq, unfinished: false });
        b.step = null;
        break;
      case 'lock_acquire':
        b.holds.push({
          lock: String(e.args?.lock ?? lockLabel(e)),
          label: lockLabel(e),
          shared: e.args?.shared === true,
          begin: e.seq,
        });
        break;
      case 'lock_release': {
        const lock = String(e.args?.lock ?? lockLabel(e));
        let i = b.holds.length - 1;
        while (i >= 0 && b.holds[i].lock !== lock) i--;
        if (i < 0) b.t.strayReleases.push(e.seq);
        else {
          closeHold(b, b.holds[i], e.seq, false);
          b.holds.splice(i, 1);
        }
        break;
      }
      default:
        b.t.marks.push(e.seq);
    }
  }
  const last = Math.max(0, events.length - 1);
  for (const b of byTid.values()) {
    for (const h of b.holds.reverse()) closeHold(b, h, last, true);
    if (b.step) b.t.steps.push({ tid: b.t.tid, ...b.step, end: last, unfinished: true });
    b.t.holds.sort((x, y) => x.begin - y.begin || y.end - x.end);
    // First row free at the hold's start: a nested hold lands below the one it nests in.
    const rowEnd: number[] = [];
    let rows = 0;
    for (const h of b.t.holds) {
      let r = 0;
      while (r < rowEnd.length && rowEnd[r] > h.begin) r++;
      rowEnd[r] = h.end;
      (h as { row: number }).row = r;
      rows = Math.max(rows, r + 1);
    }
    (b.t as { holdRows: number }).holdRows = rows;
  }
  return { threads: [...byTid.values()].map((b) => b.t), length: events.length };
}
