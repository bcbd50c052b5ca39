// The event sink every model action reports to. Disabled tracers cost one branch per tracepoint, which keeps
// exploration fast; replays of counterexamples turn tracing back on.

export interface TraceEvent {
  /** position in the run */
  readonly seq: number;
  /** logical timestamp in nanoseconds: deterministic, one microsecond per event */
  readonly ts: number;
  readonly tid: number;
  /** ftrace system, e.g. "kvm", "kvmmmu", "ras", or "gmemsim" for model-only events */
  readonly system: string;
  readonly name: string;
  /** the event's text as the kernel's TP_printk would print it */
  readonly text: string;
  /** structured fields for machine consumers (the web UI, JSON traces) */
  readonly args?: Readonly<Record<string, unknown>>;
}

export class Tracer {
  readonly events: TraceEvent[] = [];
  private clock = 0;
  /** called after each event is recorded */
  onEvent?: (e: TraceEvent) => void;
  constructor(public on: boolean) {}

  emit(tid: number, system: string, name: string, text: string, args?: Record<string, unknown>): void {
    this.clock += 1000;
    const e: TraceEvent = { seq: this.events.length, ts: this.clock, tid, system, name, text, args };
    this.events.push(e);
    this.onEvent?.(e);
  }
}

/** Formats like C's printf conversions used by TP_printk: hex(v) = %llx, hex(v, 16) = %016llx. */
export function hex(v: number | bigint, width = 0, prefix = false): string {
  const s = v.toString(16);
  const body = width > 0 ? s.padStart(prefix ? Math.max(width - 2, s.length) : width, '0') : s;
  return prefix ? `0x${body}` : body;
}
