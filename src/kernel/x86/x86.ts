// x86 KVM (arch/x86/kvm/x86.c): VM types, capabilities, and KVM_RUN with the guest program executed in guest mode.

import type { GuestAccess } from '../../ops/resolve.js';
import { trace_gmemsim, trace_kvm_page_fault, trace_kvm_userspace_exit } from '../../trace/points.js';
import { audit_gmem_access } from '../audit.js';
import { mutex_lock, mutex_unlock, srcu_read_lock, srcu_read_unlock } from '../core/locking.js';
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import type { Kvm, KvmMemorySlot, KvmVcpu } from '../kvm/kvm_host.js';
import { memslotsKey } from '../kvm/kvm_main.js';
import { dataKey } from '../mm/filemap.js';
import { PAGE_SIZE } from '../mm/mm_types.js';
import { frame_read, frame_write, pfn_folio } from '../mm/page_alloc.js';
import { signal_pending } from '../task/signal.js';
import { EINTR, EINVAL, EIO } from '../uapi/errno.js';
import * as U from '../uapi/kvm.js';
import { do_machine_check, run_task_work } from './mce.js';
import {
  kvm_mmu_page_fault,
  PFERR_GUEST_FINAL_MASK,
  PFERR_PRESENT_MASK,
  PFERR_USER_MASK,
  PFERR_WRITE_MASK,
  RET_PF_EMULATE,
  RET_PF_RETRY,
  spteKey,
} from './mmu.js';

/** kvm_caps.supported_vm_types: DEFAULT, plus SW_PROTECTED when CONFIG_KVM_SW_PROTECTED_VM and the TDP MMU are on. */
export function supported_vm_types(swProtected: boolean): number {
  return (1 << U.KVM_X86_DEFAULT_VM) | (swProtected ? 1 << U.KVM_X86_SW_PROTECTED_VM : 0);
}

/** kvm_arch_init_vm(): the only check on the VM type is kvm_is_vm_type_supported(). */
export function kvm_arch_init_vm(type: bigint, swProtected: boolean): number {
  if (type >= 32n || !(supported_vm_types(swProtected) & (1 << Number(type)))) return -EINVAL;
  return 0;
}

/** x86 kvm_vm_ioctl_check_extension(): what the generic code does not answer. */
export function kvm_vm_ioctl_check_extension(_kvm: Kvm | null, cap: number, swProtected: boolean): number {
  switch (cap) {
    case U.KVM_CAP_MEMORY_FAULT_INFO:
    case U.KVM_CAP_PRE_FAULT_MEMORY:
      return 1;
    case U.KVM_CAP_VM_TYPES:
      return supported_vm_types(swProtected);
    case U.KVM_CAP_NR_VCPUS:
    case U.KVM_CAP_MAX_VCPUS:
      return U.KVM_MAX_VCPUS;
    case U.KVM_CAP_MAX_VCPU_ID:
      return U.KVM_MAX_VCPU_IDS;
    default:
      return 0;
  }
}

/** What one KVM_RUN reports back besides its return value. */
export interface GuestRunState {
  readonly prog: readonly GuestAccess[];
  pc: number;
  readonly values: bigint[];
}

type GuestExit =
  | { readonly kind: 'hlt' }
  | { readonly kind: 'npf'; readonly gpa: number; readonly error_code: bigint; readonly access: GuestAccess }
  | { readonly kind: 'mce'; readonly pfn: number };

/** vcpu_enter_guest()'s "re-enter" after a fault that retried: the kernel returns 1 either way, the model tells them apart. */
const REENTER_AFTER_RETRY = 2;

/** Identical exits of one access, with no state change in between, before the model calls it a livelock. */
export const GUEST_REPEAT_LIMIT = 3;

/** kvm_vcpu_ioctl(KVM_RUN): vcpu->mutex serialises vCPU ioctls; trace_kvm_userspace_exit on the way out. */
export function* kvm_vcpu_ioctl_run(ctx: Ctx, vcpu: KvmVcpu, g: GuestRunState): KGen<number> {
  yield* mutex_lock(ctx, vcpu.mutex);
  const r = yield* kvm_arch_vcpu_ioctl_run(ctx, vcpu, g);
  trace_kvm_userspace_exit(
    ctx,
    U.KVM_EXIT.nameOf(vcpu.run.exit_reason) ?? String(vcpu.run.exit_reason),
    vcpu.run.exit_reason,
    r,
  );
  yield* mutex_unlock(ctx, vcpu.mutex);
  return r;
}

/** kvm_arch_vcpu_ioctl_run(): the whole run holds kvm->srcu except while in guest mode. */
function* kvm_arch_vcpu_ioctl_run(ctx: Ctx, vcpu: KvmVcpu, g: GuestRunState): KGen<number> {
  const idx = yield* srcu_read_lock(ctx, vcpu.kvm.srcu);
  const r = yield* vcpu_run(ctx, vcpu, g);
  yield* srcu_read_unlock(ctx, vcpu.kvm.srcu, idx);
  return r;
}

/** vcpu_run(): loop until an exit to userspace; pending signals end the run with -EINTR/KVM_EXIT_INTR. */
function* vcpu_run(ctx: Ctx, vcpu: KvmVcpu, g: GuestRunState): KGen<number> {
  const kvm = vcpu.kvm;
  vcpu.run.exit_reason = U.KVM_EXIT_UNKNOWN;
  let repeats = 0;
  let lastPc = -1;
  let lastGen = -1;
  for (;;) {
    const gen = kvm.retry_gen;
    const r = yield* vcpu_enter_guest(ctx, vcpu, g);
    if (r <= 0) return r;
    // __xfer_to_guest_mode_work_pending(): task work (the MCE kill) runs first, then signals end the run
    yield* run_task_work(ctx);
    if (signal_pending(ctx.task)) {
      vcpu.run.exit_reason = U.KVM_EXIT_INTR;
      return -EINTR;
    }
    if (r === REENTER_AFTER_RETRY) {
      // Re-entering the guest would fault the same way until the state the fault retried on changes: wait for
      // that instead of spinning (spin-loop bounding; the retries themselves change nothing).
      yield {
        t: 'wait',
        obj: `inval:${kvm.id}`,
        what: `vcpu${vcpu.vcpu_id} retrying its fault on gpa 0x${Number(g.prog[g.pc].gpa).toString(16)} until the invalidation ends`,
        ready: () => kvm.retry_gen !== gen || signal_pending(ctx.task),
        blockers: () => [],
      };
    }
    // the same access exiting again with nothing changed in between can only repeat forever
    if (g.pc === lastPc && kvm.retry_gen === lastGen) {
      if (++repeats >= GUEST_REPEAT_LIMIT) return livelock(ctx, vcpu, g);
    } else {
      repeats = 0;
      lastPc = g.pc;
      lastGen = kvm.retry_gen;
    }
  }
}

/** The model's bound on re-executing one guest access: reported, never silently cut short. */
function livelock(ctx: Ctx, vcpu: KvmVcpu, g: GuestRunState): number {
  ctx.k.livelocks.push({
    tid: ctx.task.tid,
    vcpu: vcpu.vcpu_id,
    pc: g.pc,
    gpa: Number(g.prog[g.pc].gpa),
    reported: false,
  });
  trace_gmemsim(
    ctx,
    'guest_livelock',
    `vcpu ${vcpu.vcpu_id} access ${g.pc} exited ${GUEST_REPEAT_LIMIT} times with nothing changing`,
  );
  vcpu.run.exit_reason = U.KVM_EXIT_INTR;
  return -EINTR;
}

/**
 * vcpu_enter_guest(): run the guest program until a VM exit, then handle the exit. Returns >0 to re-enter,
 * 0 to exit to userspace with exit_reason set, <0 for an error.
 */
function* vcpu_enter_guest(ctx: Ctx, vcpu: KvmVcpu, g: GuestRunState): KGen<number> {
  const kvm = vcpu.kvm;
  if (kvm.vm_dead) return -EIO;
  if (signal_pending(ctx.task)) return 1; // kvm_vcpu_exit_request()
  const exit = yield* run_guest(ctx, vcpu, g);
  switch (exit.kind) {
    case 'hlt':
      vcpu.run.exit_reason = U.KVM_EXIT_HLT;
      return 0;
    case 'mce':
      // vmx_handle_exit_irqoff()/svm_handle_mce() → kvm_machine_check(): #MC handled as if from user mode
      yield* do_machine_check(ctx, exit.pfn, true);
      return 1;
    case 'npf': {
      // npf_interception()
      trace_kvm_page_fault(ctx, vcpu.vcpu_id, g.pc, exit.gpa, exit.error_code);
      yield* rd(memslotsKey(kvm));
      const slots: ReadonlyMap<number, KvmMemorySlot> = kvm.memslots[0];
      const r = yield* kvm_mmu_page_fault(ctx, vcpu, slots, exit.gpa, exit.error_code, exit.access.private);
      if (r === RET_PF_EMULATE) {
        // x86_emulate_instruction() on an emulated MMIO access: exit to userspace
        vcpu.run.exit_reason = U.KVM_EXIT_MMIO;
        g.pc++;
        return 0;
      }
      if (r === RET_PF_RETRY) return REENTER_AFTER_RETRY;
      return r <= 0 ? r : 1;
    }
  }
}

/**
 * Guest mode: each access walks the SPTEs; a missing or read-only SPTE is a nested page fault, a corrupted
 * frame raises a machine check. Poison is consumed whenever a live SPTE still maps a bad frame.
 */
function* run_guest(ctx: Ctx, vcpu: KvmVcpu, g: GuestRunState): KGen<GuestExit> {
  const kvm = vcpu.kvm;
  const table = kvm.sptes[0];
  while (g.pc < g.prog.length) {
    const a = g.prog[g.pc];
    const gpa = Number(a.gpa);
    const gfn = Math.floor(gpa / PAGE_SIZE);
    yield* rd(spteKey(kvm, gfn));
    const spte = table.get(gfn);
    if (!spte || (a.write && !spte.writable)) {
      const ec =
        PFERR_GUEST_FINAL_MASK | PFERR_USER_MASK | (a.write ? PFERR_WRITE_MASK : 0n) | (spte ? PFERR_PRESENT_MASK : 0n);
      return { kind: 'npf', gpa, error_code: ec, access: a };
    }
    const folio = pfn_folio(ctx.k, spte.pfn)!;
    // translated: a TLB flush now waits for this access to complete (kvm_flush_remote_tlbs())
    vcpu.inflight = gfn;
    vcpu.inflightTid = ctx.task.tid;
    yield* (a.write ? wr : rd)(dataKey(folio));
    vcpu.inflight = -1;
    if (folio.freed) ctx.k.uaf.push({ tid: ctx.task.tid, kvm: kvm.id, gfn, pfn: spte.pfn, write: a.write });
    if (folio.corrupt) return { kind: 'mce', pfn: spte.pfn };
    const off = gpa % PAGE_SIZE;
    let value = a.value;
    if (a.write) {
      frame_write(folio, off, a.size, a.value);
    } else {
      value = frame_read(folio, off, a.size);
      g.values.push(value);
    }
    if (spte.gmemIno >= 0) audit_gmem_access(ctx, 'guest', spte.gmemIno, spte.gmemIndex, off, a.size, a.write, value);
    g.pc++;
  }
  return { kind: 'hlt' };
}
