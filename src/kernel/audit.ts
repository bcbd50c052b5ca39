// Facts the model records for the property checks, at the moment they happen. This is instrumentation, not
// kernel behaviour: nothing in the model reads it back.
import type { Ctx } from './core/sched.js';
import type { Kernel } from './machine.js';
import type { Task } from './task/task.js';

export interface AuditFinding {
  readonly code: 'GMEM4002' | 'GMEM4005' | 'GMEM4007';
  readonly tid: number;
  readonly message: string;
}

export interface Audit {
  /** pfns whose a_ops->error_remove_folio has returned and that are still poisoned */
  readonly handled: Set<number>;
  /** guest_memfd pages ("ino:index") poisoned when their handler returned, until userspace punches them */
  readonly poisonedIdx: Set<string>;
  /** values last written to guest_memfd pages ("ino:index"), to notice lost data */
  readonly written: Map<string, Array<{ off: number; size: number; value: bigint }>>;
  /** the pfn memory_failure() is handling, per task */
  readonly mfPfn: Map<number, number>;
  readonly findings: AuditFinding[];
}

export function newAudit(): Audit {
  return { handled: new Set(), poisonedIdx: new Set(), written: new Map(), mfPfn: new Map(), findings: [] };
}

const pageKey = (ino: number, index: number) => `${ino}:${index}`;

/** a_ops->error_remove_folio returned for a page-cache folio. */
export function audit_error_handled(k: Kernel, pfn: number, ino: number, index: number): void {
  k.audit.handled.add(pfn);
  k.audit.poisonedIdx.add(pageKey(ino, index));
}

export function audit_unpoisoned(k: Kernel, pfn: number): void {
  k.audit.handled.delete(pfn);
}

/** Userspace punched [start, end) of a file: its poisoned pages are recovered and their data is gone. */
export function audit_punched(k: Kernel, ino: number, start: number, end: number): void {
  for (const key of [...k.audit.poisonedIdx]) {
    const [i, idx] = key.split(':').map(Number);
    if (i === ino && idx >= start && idx < end) k.audit.poisonedIdx.delete(key);
  }
  for (const key of [...k.audit.written.keys()]) {
    const [i, idx] = key.split(':').map(Number);
    if (i === ino && idx >= start && idx < end) k.audit.written.delete(key);
  }
}

/** Bytes [off, off+size) of a page were overwritten wholesale (e.g. memset): forget what was there. */
export function audit_overwritten(k: Kernel, ino: number, index: number, off: number, size: number): void {
  const list = k.audit.written.get(pageKey(ino, index));
  if (!list) return;
  const kept = list.filter((w) => w.off + w.size <= off || w.off >= off + size);
  if (kept.length) k.audit.written.set(pageKey(ino, index), kept);
  else k.audit.written.delete(pageKey(ino, index));
}

/** A guest or host access to guest_memfd page (ino, index) completed normally. */
export function audit_gmem_access(
  ctx: Ctx,
  who: 'guest' | 'host',
  ino: number,
  index: number,
  off: number,
  size: number,
  write: boolean,
  value: bigint,
): void {
  const a = ctx.k.audit;
  const page = pageKey(ino, index);
  if (who === 'guest' && a.poisonedIdx.has(page)) {
    a.findings.push({
      code: 'GMEM4002',
      tid: ctx.task.tid,
      message: `the guest ${write ? 'wrote' : 'read'} guest_memfd ino ${ino} index 0x${index.toString(16)} after its memory error was handled`,
    });
  }
  if (write) {
    audit_overwritten(ctx.k, ino, index, off, size);
    const list = a.written.get(page) ?? [];
    list.push({ off, size, value });
    a.written.set(page, list);
    return;
  }
  const want = a.written.get(page)?.find((w) => w.off === off && w.size === size)?.value;
  if (want !== undefined && want !== value && !a.poisonedIdx.has(page)) {
    a.findings.push({
      code: 'GMEM4005',
      tid: ctx.task.tid,
      message: `${who} read 0x${value.toString(16)} from guest_memfd ino ${ino} index 0x${index.toString(16)}+0x${off.toString(16)}, last written 0x${want.toString(16)}`,
    });
  }
}

/** memory_failure() is about to signal `t` for the page it handles: t must map that page. */
export function audit_mf_signal(ctx: Ctx, t: Task, mapsPage: boolean): void {
  const pfn = ctx.k.audit.mfPfn.get(ctx.task.tid);
  if (pfn === undefined || mapsPage) return;
  ctx.k.audit.findings.push({
    code: 'GMEM4007',
    tid: ctx.task.tid,
    message: `memory failure on pfn 0x${pfn.toString(16)} signalled ${t.comm}:${t.tid}, which does not map it`,
  });
}
