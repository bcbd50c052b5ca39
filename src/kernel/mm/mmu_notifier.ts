// MMU notifiers (mm/mmu_notifier.c): every change to a process's page tables is reported to the VMs created
// by that process, which zap the SPTEs of the affected host addresses.
import type { Ctx, KGen } from '../core/sched.js';
import { kvm_mmu_notifier_invalidate_range_end, kvm_mmu_notifier_invalidate_range_start } from '../kvm/kvm_main.js';
import type { Mm } from './mm_types.js';

export function* mmu_notifier_invalidate_range_start(ctx: Ctx, mm: Mm, start: number, end: number): KGen<void> {
  for (const kvm of ctx.k.vms) {
    if (kvm.mm === mm && !kvm.destroyed) yield* kvm_mmu_notifier_invalidate_range_start(ctx, kvm, start, end);
  }
}

export function* mmu_notifier_invalidate_range_end(ctx: Ctx, mm: Mm, start: number, end: number): KGen<void> {
  for (const kvm of ctx.k.vms) {
    if (kvm.mm === mm && !kvm.destroyed) yield* kvm_mmu_notifier_invalidate_range_end(ctx, kvm, start, end);
  }
}
