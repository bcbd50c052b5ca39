// Replaying a schedule and presenting it: the ftrace-style trace with a column per thread, and the document the
// web visualizer opens (a run bundle plus the violation and its cross-thread happens-before edges).
import type { RunBundle, ThreadInfo } from '../api/bundle.js';
import type { CounterexampleBundle, HappensBefore } from '../api/ui-formats.js';
import { formatFtrace, type TaskInfo } from '../trace/ftrace.js';
import { type KernelState, snapshotKernel } from '../trace/state.js';
import { type TraceEvent, Tracer } from '../trace/tracer.js';
import { footprint, keysOverlap } from './dependence.js';
import { type ExecutionResult, runExecution } from './execution.js';
import type { ViolationReport } from './explore.js';
import type { Program } from './program.js';
import { guidedChooser } from './shrink.js';

/** Runs exactly this schedule (a replay token's), with tracing; the same schedule always gives the same trace. */
export function replay(
  p: Program,
  schedule: readonly number[],
  trace: boolean | ((k: import('../kernel/machine.js').Kernel) => Tracer) = true,
): ExecutionResult {
  return runExecution(p, guidedChooser(schedule), { trace });
}

/** Cross-thread happens-before edges: each transition after the last earlier dependent one of another thread. */
export function happensBefore(p: Program, schedule: readonly number[], r: ExecutionResult): HappensBefore[] {
  // re-run to collect each transition's point (the world does not keep them)
  const points: Array<{ thread: number; key: string; write: boolean }> = [];
  runExecution(p, guidedChooser(schedule), {
    beforeStep: (_w, _d, thread, point) => {
      const f = footprint(point);
      points.push({ thread, key: f.key, write: f.write });
    },
  });
  const out: HappensBefore[] = [];
  for (let i = 0; i < points.length; i++) {
    const b = points[i];
    for (let j = i - 1; j >= 0; j--) {
      const a = points[j];
      if (a.thread === b.thread || !(a.write || b.write) || !keysOverlap(a.key, b.key)) continue;
      const from = lastEvent(r, j);
      const to = firstEvent(r, i);
      if (from !== null && to !== null && from < to)
        out.push({ from, to, reason: `${a.write ? 'write' : 'read'} then ${b.write ? 'write' : 'read'} of ${b.key}` });
      break;
    }
  }
  return out;
}

function lastEvent(r: ExecutionResult, t: number): number | null {
  for (let i = t; i >= 0; i--) {
    const [a, b] = r.eventRanges[i];
    if (b > a && r.schedule[i] === r.schedule[t]) return b - 1;
  }
  return null;
}

function firstEvent(r: ExecutionResult, t: number): number | null {
  for (let i = t; i < r.eventRanges.length; i++) {
    const [a, b] = r.eventRanges[i];
    if (b > a && r.schedule[i] === r.schedule[t]) return a;
  }
  return null;
}

const HIDDEN = new Set(['sys_enter_ioctl', 'sys_exit_ioctl']);

/** The trace as text with one column per scenario thread, plus one for the `after` steps (the main thread). */
export function renderColumns(p: Program, events: readonly TraceEvent[], width = 58): string {
  const cols: number[] = p.threads.map((t) => t.tid);
  const names = p.threads.map((t) => t.name);
  if (events.some((e) => e.tid === p.mainTid)) {
    cols.push(p.mainTid);
    names.push('after');
  }
  const header = ['time(µs)'.padStart(9), ...names.map((n) => n.padEnd(width))].join(' │ ');
  const lines = [header.trimEnd(), '─'.repeat(header.length)];
  for (const e of events) {
    if (HIDDEN.has(e.name)) continue;
    const col = cols.indexOf(e.tid);
    const text = `${e.name === 'console' ? 'printk' : e.name}: ${e.text}`;
    const cells = cols.map((_, i) => (i === col ? clip(text, width) : '').padEnd(width));
    lines.push([(e.ts / 1000).toFixed(0).padStart(9), ...cells].join(' │ ').trimEnd());
  }
  return lines.join('\n');
}

function clip(s: string, w: number): string {
  return s.length <= w ? s : `${s.slice(0, w - 1)}…`;
}

export function renderCounterexample(p: Program, v: ViolationReport, schedule: readonly number[]): string {
  const r = replay(p, schedule);
  const head = [
    `${v.code} ${v.title}`,
    `  ${v.message}`,
    `  schedule: ${v.length} transitions, ${v.preemptions} preemption(s); seen in ${v.occurrences} execution(s)`,
    `  replay: gmemsim replay ${p.scenario.file} ${v.token}`,
    '',
  ];
  return `${head.join('\n')}${renderColumns(p, r.world.tr.events)}\n${renderBlocked(p, r)}`;
}

/** For an execution that ended with every live thread blocked: where each one waits, in its own column. */
function renderBlocked(p: Program, r: ExecutionResult, width = 58): string {
  if (r.status !== 'deadlock') return '';
  const names = p.threads.map((t) => t.name);
  const lines = r.world.waitEdges().map((e) => {
    const text = clip(`⧗ waits for ${e.on}${e.holders.length ? ` (held by ${e.holders.join(', ')})` : ''}`, width);
    const cells = names.map((n) => (n === e.waiter ? text : '').padEnd(width));
    return ['blocked'.padStart(9), ...cells].join(' │ ').trimEnd();
  });
  return `${lines.join('\n')}\n`;
}

/** One explored execution as a run bundle: its trace and the kernel state after every event. */
export function executionBundle(
  p: Program,
  schedule: readonly number[],
): { bundle: RunBundle; result: ExecutionResult } {
  const states: KernelState[] = [];
  let initial: KernelState | undefined;
  const r = replay(p, schedule, (k) => {
    const tr = new Tracer(true);
    initial = snapshotKernel(k);
    tr.onEvent = () => states.push(snapshotKernel(k));
    return tr;
  });
  const threads: ThreadInfo[] = p.threads.map((t) => ({ tid: t.tid, name: t.name, comm: t.name }));
  if (r.afterResults.length) threads.push({ tid: p.mainTid, name: 'after', comm: 'vmm' });
  const tasks = new Map<number, TaskInfo>(threads.map((t, i) => [t.tid, { comm: t.comm, cpu: i }]));
  const bundle: RunBundle = {
    format: 'gmemsim-run/1',
    scenario: { name: p.scenario.name, description: p.scenario.description, file: p.scenario.file },
    options: p.options,
    threads,
    steps: [...r.threadResults.flat(), ...r.afterResults],
    mismatches: [],
    events: r.world.tr.events,
    initial: initial!,
    states,
    ftrace: formatFtrace(r.world.tr.events, tasks),
  };
  return { bundle, result: r };
}

/** The document the visualizer opens for a counterexample: the execution, the violation, and why it ordered so. */
export function counterexampleBundle(
  p: Program,
  v: ViolationReport,
  schedule: readonly number[],
): CounterexampleBundle {
  const { bundle, result } = executionBundle(p, schedule);
  return {
    ...bundle,
    format: 'gmemsim-counterexample/1',
    violation: {
      code: v.code,
      title: v.title,
      message: v.message,
      ...(v.thread ? { thread: v.thread } : {}),
      token: v.token,
    },
    happensBefore: happensBefore(p, schedule, result),
  };
}
