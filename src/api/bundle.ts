// A run as one JSON document for the web visualizer and other tools: results, trace events, and the kernel state
// after every event (the "JSON state trace").
import type { KernelOptions } from '../kernel/options.js';
import type { StepResult } from '../ops/result.js';
import type { Scenario } from '../scenario/load.js';
import { runScenario, type StepMismatch } from '../scenario/run.js';
import { formatFtrace, type TaskInfo } from '../trace/ftrace.js';
import { type KernelState, snapshotKernel } from '../trace/state.js';
import { type TraceEvent, Tracer } from '../trace/tracer.js';

export interface ThreadInfo {
  readonly tid: number;
  /** the scenario's name for the thread ("main" for `steps`) */
  readonly name: string;
  readonly comm: string;
}

export interface RunBundle {
  readonly format: 'gmemsim-run/1';
  readonly scenario: { readonly name: string; readonly description: string; readonly file: string };
  readonly options: KernelOptions;
  readonly threads: readonly ThreadInfo[];
  readonly steps: readonly StepResult[];
  readonly mismatches: readonly StepMismatch[];
  readonly stopped?: string;
  readonly events: readonly TraceEvent[];
  /** the state before the first event */
  readonly initial: KernelState;
  /** states[i] is the state right after events[i] */
  readonly states: readonly KernelState[];
  readonly ftrace: string;
}

export function runBundle(s: Scenario, options: Partial<KernelOptions> = {}): RunBundle {
  const states: KernelState[] = [];
  let initial: KernelState | undefined;
  const o = runScenario(s, {
    options,
    tracer: (k) => {
      const tr = new Tracer(true);
      initial = snapshotKernel(k);
      tr.onEvent = () => states.push(snapshotKernel(k));
      return tr;
    },
  });
  const tasks = new Map<number, TaskInfo>();
  const threads: ThreadInfo[] = [];
  for (const p of o.kernel.procs) {
    for (const t of p.threads) {
      tasks.set(t.tid, { comm: t.comm, cpu: threads.length });
      threads.push({ tid: t.tid, name: threads.length === 0 ? 'main' : t.comm, comm: t.comm });
    }
  }
  return {
    format: 'gmemsim-run/1',
    scenario: { name: s.name, description: s.description, file: s.file },
    options: o.options,
    threads,
    steps: o.results,
    mismatches: o.mismatches,
    ...(o.stopped ? { stopped: o.stopped } : {}),
    events: o.trace.events,
    initial: initial!,
    states,
    ftrace: formatFtrace(o.trace.events, tasks),
  };
}
