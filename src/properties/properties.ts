// The properties kernel reviewers care about, checked on every explored state or where they apply. Each has a
// stable code (src/diagnostics/codes.ts) and an entry in docs/properties.md.
import type { DiagnosticCode } from '../diagnostics/codes.js';
import { DIAGNOSTICS } from '../diagnostics/codes.js';
import { rangeGet } from '../kernel/lib/range_map.js';
import type { Kernel } from '../kernel/machine.js';

export interface Violation {
  readonly code: DiagnosticCode;
  readonly message: string;
  /** the scenario thread it concerns, when one does */
  readonly thread?: string;
}

/** The properties a variant table reports, in display order. */
export const PROPERTY_CODES = [
  'GMEM4001',
  'GMEM4002',
  'GMEM4003',
  'GMEM4004',
  'GMEM4005',
  'GMEM4006',
  'GMEM4007',
  'GMEM4008',
  'GMEM4009',
  'GMEM4011',
] as const satisfies readonly DiagnosticCode[];
export type PropertyCode = (typeof PROPERTY_CODES)[number];

export function propertyTitle(code: DiagnosticCode): string {
  return DIAGNOSTICS[code].title;
}

/** Invariants of a single state: checked after every transition. */
export function checkState(k: Kernel): Violation[] {
  const out: Violation[] = [];
  for (const vm of k.vms) {
    if (vm.destroyed) continue;
    if (vm.mmu_invalidate_in_progress < 0) {
      out.push({
        code: 'GMEM4004',
        message: `kvm${vm.id}: mmu_invalidate_in_progress is ${vm.mmu_invalidate_in_progress}`,
      });
    }
    vm.sptes.forEach((table, as_id) => {
      for (const [gfn, s] of table) {
        const where = `kvm${vm.id} as ${as_id} gfn 0x${gfn.toString(16)} -> pfn 0x${s.pfn.toString(16)}`;
        if (k.audit.handled.has(s.pfn)) {
          out.push({
            code: 'GMEM4001',
            message: `${where}: the folio is hwpoisoned and its error handler has returned`,
          });
        }
        if (s.gmemIno >= 0) {
          const f = k.mem.get(s.pfn);
          const current = f && !f.freed && f.mapping?.host.ino === s.gmemIno && f.mapping.pages.get(s.gmemIndex) === f;
          if (!current) {
            out.push({
              code: 'GMEM4003',
              message: `${where}: guest_memfd ino ${s.gmemIno} index 0x${s.gmemIndex.toString(16)} no longer holds that page`,
            });
          }
        }
        const priv = (rangeGet(vm.mem_attr_array, gfn) & 8) !== 0;
        if (s.private !== priv) {
          out.push({
            code: 'GMEM4006',
            message: `${where}: a ${s.private ? 'private' : 'shared'} SPTE on a ${priv ? 'private' : 'shared'} gfn`,
          });
        }
      }
    });
  }
  return out;
}

/** Facts recorded as they happened (audit findings, WARNs, use-after-free accesses, livelocks), from the given marks on. */
export interface FactMarks {
  findings: number;
  warnings: number;
  uaf: number;
  livelocks: number;
}

export function marksOf(k: Kernel): FactMarks {
  return {
    findings: k.audit.findings.length,
    warnings: k.warnings.length,
    uaf: k.uaf.length,
    livelocks: k.livelocks.length,
  };
}

export function newFacts(k: Kernel, m: FactMarks, threadOf: (tid: number) => string | undefined): Violation[] {
  const out: Violation[] = [];
  for (const f of k.audit.findings.slice(m.findings))
    out.push({ code: f.code, message: f.message, thread: threadOf(f.tid) });
  for (const w of k.warnings.slice(m.warnings)) {
    out.push({
      code: 'GMEM4009',
      message: `${w.bug ? 'KVM_BUG_ON' : 'WARN_ON'} at ${w.where}: ${w.cond}`,
      thread: threadOf(w.tid),
    });
  }
  for (const u of k.uaf.slice(m.uaf)) {
    out.push({
      code: 'GMEM4003',
      message: `the guest ${u.write ? 'wrote' : 'read'} freed pfn 0x${u.pfn.toString(16)} through kvm${u.kvm} gfn 0x${u.gfn.toString(16)}`,
      thread: threadOf(u.tid),
    });
  }
  for (const l of k.livelocks.slice(m.livelocks)) {
    out.push({
      code: 'GMEM4011',
      message: `vCPU ${l.vcpu} kept re-executing its access to gpa 0x${l.gpa.toString(16)}`,
      thread: threadOf(l.tid),
    });
  }
  return out;
}

/** Checks that apply once every thread has finished. */
export function checkQuiescent(k: Kernel): Violation[] {
  const out: Violation[] = [];
  for (const vm of k.vms) {
    if (!vm.destroyed && vm.mmu_invalidate_in_progress !== 0) {
      out.push({
        code: 'GMEM4004',
        message: `kvm${vm.id}: mmu_invalidate_in_progress is ${vm.mmu_invalidate_in_progress} when every thread has finished`,
      });
    }
  }
  return out;
}
