// Human-readable output of runs for the terminal.
import pc from 'picocolors';
import type { StepResult } from '../ops/result.js';
import type { RunOutcome, StepMismatch } from '../scenario/run.js';

/** JSON-ish text for any value, bigints as hex. */
export function show(v: unknown): string {
  if (typeof v === 'string') return v;
  const big = (x: bigint) => (x >= -0xffffn && x <= 0xffffn ? Number(x) : `0x${BigInt.asUintN(64, x).toString(16)}`);
  if (typeof v === 'bigint') return String(big(v));
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? big(x) : x)) ?? String(v);
}

export function describeResult(r: StepResult): string {
  const parts = [`ret=${typeof r.ret === 'number' && r.ret > 0xffff ? `0x${r.ret.toString(16)}` : show(r.ret)}`];
  if (r.errno) parts.push(`errno=${r.errno}`);
  if (r.exit_reason !== undefined) parts.push(`exit=${r.exit_reason}`);
  if (r.memory_fault)
    parts.push(
      `memory_fault={flags:[${r.memory_fault.flags.join('|')}] gpa:0x${r.memory_fault.gpa.toString(16)} size:${r.memory_fault.size}}`,
    );
  if (r.values?.length)
    parts.push(`values=[${r.values.map((v) => (typeof v === 'number' ? `0x${v.toString(16)}` : v)).join(', ')}]`);
  if (r.value !== undefined) parts.push(`value=${typeof r.value === 'number' ? `0x${r.value.toString(16)}` : r.value}`);
  if (r.stat) parts.push(`st_size=${r.stat.st_size} st_blksize=${r.stat.st_blksize} st_ino=${r.stat.st_ino}`);
  if (r.signal)
    parts.push(
      `signal=${r.signal.signo}/${r.signal.code} addr=0x${r.signal.addr.toString(16)} lsb=${r.signal.addr_lsb}`,
    );
  if (r.panic) parts.push(`PANIC: ${r.panic}`);
  if (r.livelock) parts.push(`livelock: ${r.livelock}`);
  return parts.join(' ');
}

export function renderRun(o: RunOutcome, color: boolean): string {
  const c = pc.createColors(color);
  const bad = new Set(o.mismatches.map((m) => m.step));
  const lines = [
    c.bold(`${o.scenario.name}`) +
      c.dim(`  (mm: ${o.options.mm}, error_handler: ${o.options.error_handler}, kernel: ${o.options.kernel})`),
  ];
  for (const r of o.results) {
    const spec = o.scenario.steps[r.step];
    const mark = spec.expect ? (bad.has(r.step) ? c.red('✗') : c.green('✓')) : ' ';
    lines.push(`${mark} ${String(r.step).padStart(3)} ${r.op.padEnd(28)} ${describeResult(r)}`);
    for (const d of r.dmesg ?? []) lines.push(c.dim(`        dmesg: ${d}`));
  }
  if (o.stopped) lines.push(c.red(`stopped: ${o.stopped}`));
  if (o.mismatches.length) {
    lines.push('', c.red(`${o.mismatches.length} expectation(s) failed:`));
    for (const m of o.mismatches) lines.push(formatMismatch(m));
  }
  return lines.join('\n');
}

export function formatMismatch(m: StepMismatch): string {
  return `${m.loc.file}:${m.loc.line}:${m.loc.col}: step ${m.step} (${m.op}): ${m.field}: expected ${show(m.expected)}, got ${show(m.actual)}`;
}
