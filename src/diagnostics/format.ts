// The one pretty-printer for diagnostics.
import pc from 'picocolors';
import type { Diagnostic } from './errors.js';

export function formatDiagnostic(d: Diagnostic, color = false): string {
  const c = pc.createColors(color);
  const where = d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.col}: ` : d.path ? `${d.path}: ` : '';
  let out = `${c.bold(where)}${c.red('error')} ${c.dim(d.code)}: ${d.message}`;
  if (d.hint) out += `\n  ${c.dim('hint:')} ${d.hint}`;
  return out;
}

export function formatDiagnostics(ds: readonly Diagnostic[], color = false): string {
  return ds.map((d) => formatDiagnostic(d, color)).join('\n');
}
