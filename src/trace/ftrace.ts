// Renders events as ftrace text (/sys/kernel/tracing/trace): header, then one line per event in the
// "comm-pid [cpu] flags timestamp: event: text" layout.
import type { TraceEvent } from './tracer.js';

export interface TaskInfo {
  readonly comm: string;
  readonly cpu: number;
}

export function formatFtrace(events: readonly TraceEvent[], tasks: ReadonlyMap<number, TaskInfo>): string {
  const lines = [
    '# tracer: nop',
    '#',
    `# entries-in-buffer/entries-written: ${events.length}/${events.length}   #P:${Math.max(1, new Set([...tasks.values()].map((t) => t.cpu)).size)}`,
    '#',
    '#                                _-----=> irqs-off/BH-disabled',
    '#                               / _----=> need-resched',
    '#                              | / _---=> hardirq/softirq',
    '#                              || / _--=> preempt-depth',
    '#                              ||| / _-=> migrate-disable',
    '#                              |||| /     delay',
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
    '#              | |         |   |||||     |         |',
  ];
  for (const e of events) lines.push(formatLine(e, tasks.get(e.tid)));
  return `${lines.join('\n')}\n`;
}

export function formatLine(e: TraceEvent, t: TaskInfo | undefined): string {
  const who = `${t?.comm ?? 'task'}-${e.tid}`.padStart(16);
  const cpu = String(t?.cpu ?? 0).padStart(3, '0');
  const ts = (e.ts / 1e9).toFixed(6).padStart(12);
  return `${who} [${cpu}] ..... ${ts}: ${e.name}: ${e.text}`;
}
