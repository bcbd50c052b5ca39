// Text output of oracle runs, diffs and summaries. Plain text, colour only through the given painter.
import { show } from '../cli/render.js';
import type { Timings } from './boot.js';
import type { ScenarioComparison } from './diff.js';
import type { DiffReport } from './session.js';

export interface Painter {
  red(s: string): string;
  green(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  yellow(s: string): string;
}

export const plain: Painter = { red: (s) => s, green: (s) => s, dim: (s) => s, bold: (s) => s, yellow: (s) => s };

const seconds = (ms: number | undefined): string => (ms === undefined ? '?' : `${(ms / 1000).toFixed(2)} s`);

function statusWord(c: ScenarioComparison, p: Painter): string {
  switch (c.status) {
    case 'identical':
      return p.green('identical');
    case 'different':
      return p.red('DIFFERENT');
    case 'known':
      return p.yellow('known differences');
    case 'model-only':
      return p.yellow('model-only');
  }
}

function stopText(c: ScenarioComparison): string {
  if (!c.modelOnly) return '';
  const where =
    c.compared === 0
      ? 'model-only'
      : `model-only from step ${c.modelOnly.step}${c.modelOnly.op ? ` (${c.modelOnly.op})` : ''}`;
  return `; ${where}: ${c.modelOnly.reason}`;
}

export function renderComparison(c: ScenarioComparison, p: Painter): string[] {
  const lines = [
    `${p.bold(c.file)}  ${statusWord(c, p)}  ${p.dim(`(${c.compared}/${c.steps} steps compared${stopText(c)})`)}`,
  ];
  for (const n of c.notes) lines.push(p.dim(`  note: ${n}`));
  for (const d of c.differences) {
    for (const f of d.fields) {
      const text = `  step ${d.step} ${d.op}  ${p.bold(f.field)}: model ${show(f.model ?? '(none)')}  kernel ${show(f.kernel ?? '(none)')}`;
      lines.push(d.known ? p.yellow(text) : text);
    }
    if (d.known) lines.push(p.dim(`    known: ${d.known.reason}`));
  }
  return lines;
}

export interface Counts {
  readonly total: number;
  readonly both: number;
  readonly identical: number;
  /** with a difference not explained in oracle/known-differences.yaml */
  readonly different: number;
  /** every difference explained in oracle/known-differences.yaml */
  readonly known: number;
  readonly modelOnly: number;
  /** run on both sides, but with a model-only tail */
  readonly partial: number;
}

export function countComparisons(cs: readonly ScenarioComparison[]): Counts {
  const both = cs.filter((c) => c.status !== 'model-only');
  return {
    total: cs.length,
    both: both.length,
    identical: both.filter((c) => c.status === 'identical').length,
    different: both.filter((c) => c.status === 'different').length,
    known: both.filter((c) => c.status === 'known').length,
    modelOnly: cs.length - both.length,
    partial: both.filter((c) => c.modelOnly).length,
  };
}

export function timingLine(kernel: string, t: Timings | undefined, modelMs: number, n: number): string {
  if (!t) return `timing: no oracle run; model ${seconds(modelMs)} for ${n} scenarios`;
  const boot = t.bootMs === undefined ? '' : `boot ${seconds(t.bootMs)}, `;
  return `timing: oracle ${kernel} ${seconds(t.totalMs)} wall (${boot}scenarios ${seconds(t.runMs)}); model ${seconds(modelMs)} for the same ${n} scenarios`;
}

export function renderDiffReport(r: DiffReport, p: Painter): string {
  const lines = r.comparisons.flatMap((c) => renderComparison(c, p));
  const n = countComparisons(r.comparisons);
  for (const k of r.stale) {
    lines.push(
      p.red(
        `stale known difference: ${k.file} step ${k.step} (${k.fields.join(', ')}) no longer differs; remove it from oracle/known-differences.yaml`,
      ),
    );
  }
  lines.push(
    '',
    p.bold(
      `Debian ${r.session.profile.id}: ${n.total} scenarios: ${n.both} run on both sides (${n.identical} identical, ${n.known} with known differences, ${n.different} different; ${n.partial} with a model-only tail), ${n.modelOnly} model-only`,
    ),
    timingLine(r.session.profile.id, r.timings.oracle, r.timings.modelMs, n.both),
  );
  if (r.session.outcome) lines.push(p.dim(`serial logs: ${r.session.outcome.logDir}`));
  return lines.join('\n');
}
