// Tracepoints, named and printed as in the kernel where the kernel has them; model-only events are in the
// "gmemsim" system. Each function mirrors a trace_*() call site in the modeled code.
import type { Lock } from '../kernel/core/locking.js';
import type { Ctx } from '../kernel/core/sched.js';
import { hex } from './tracer.js';

function emit(ctx: Ctx, system: string, name: string, text: string, args?: Record<string, unknown>): void {
  ctx.tr.emit(ctx.task.tid, system, name, text, args);
}

// ---- syscalls (kernel/trace/trace_syscalls.c: "sys_NAME(field: 0x%08lx, ...)" and "0x%lx")
export function trace_sys_enter(ctx: Ctx, sys: string, args: ReadonlyArray<readonly [string, number | bigint]>): void {
  if (!ctx.tr.on) return;
  const text = `sys_${sys}(${args.map(([n, v]) => `${n}: 0x${hex(BigInt.asUintN(64, BigInt(v)), 8)}`).join(', ')})`;
  emit(ctx, 'syscalls', `sys_enter_${sys}`, text, Object.fromEntries(args.map(([n, v]) => [n, String(v)])));
}
export function trace_sys_exit(ctx: Ctx, sys: string, ret: number | bigint): void {
  if (!ctx.tr.on) return;
  emit(ctx, 'syscalls', `sys_exit_${sys}`, hex(BigInt.asUintN(64, BigInt(ret)), 0, true), { ret: String(ret) });
}

// ---- kvm (arch/x86/kvm/trace.h, include/trace/events/kvm.h)
export function trace_kvm_page_fault(ctx: Ctx, vcpu: number, rip: number, gpa: number, error_code: bigint): void {
  if (!ctx.tr.on) return;
  emit(
    ctx,
    'kvm',
    'kvm_page_fault',
    `vcpu ${vcpu} rip ${hex(rip, 0, true)} address 0x${hex(gpa, 16)} error_code ${hex(error_code, 0, true)}`,
    { vcpu, gpa, error_code: String(error_code) },
  );
}
export function trace_kvm_vm_set_mem_attributes(ctx: Ctx, start: number, end: number, attrs: number): void {
  if (!ctx.tr.on) return;
  emit(
    ctx,
    'kvm',
    'kvm_vm_set_mem_attributes',
    `${hex(start, 16, true)} -- ${hex(end, 16, true)} [${hex(attrs, 0, true)}]`,
    {
      start,
      end,
      attrs,
    },
  );
}
export function trace_kvm_userspace_exit(ctx: Ctx, reasonName: string, reason: number, err: number): void {
  if (!ctx.tr.on) return;
  const shown = err < 0 ? (err === -4 ? 'restart' : 'error') : reasonName;
  emit(ctx, 'kvm', 'kvm_userspace_exit', `reason ${shown} (${err < 0 ? -err : reason})`, { reason, errno: err });
}
export function trace_kvm_unmap_hva_range(ctx: Ctx, start: number, end: number): void {
  if (!ctx.tr.on) return;
  emit(ctx, 'kvm', 'kvm_unmap_hva_range', `mmu notifier unmap range: ${hex(start, 16, true)} -- ${hex(end, 16, true)}`);
}

// ---- kvmmmu (arch/x86/kvm/mmu/mmutrace.h)
export function trace_kvm_mmu_spte_requested(ctx: Ctx, gfn: number, pfn: number, level: number): void {
  if (!ctx.tr.on) return;
  emit(ctx, 'kvmmmu', 'kvm_mmu_spte_requested', `gfn ${hex(gfn)} pfn ${hex(pfn)} level ${level}`, { gfn, pfn, level });
}
export function trace_kvm_tdp_mmu_spte_changed(
  ctx: Ctx,
  as_id: number,
  gfn: number,
  level: number,
  old_spte: bigint,
  new_spte: bigint,
): void {
  if (!ctx.tr.on) return;
  emit(
    ctx,
    'kvmmmu',
    'kvm_tdp_mmu_spte_changed',
    `as id ${as_id} gfn ${hex(gfn)} level ${level} old_spte ${hex(old_spte)} new_spte ${hex(new_spte)}`,
    { as_id, gfn, level, old_spte: String(old_spte), new_spte: String(new_spte) },
  );
}

export function trace_kvm_mmu_set_spte(ctx: Ctx, level: number, gfn: number, spte: bigint, writable: boolean): void {
  if (!ctx.tr.on) return;
  emit(
    ctx,
    'kvmmmu',
    'kvm_mmu_set_spte',
    `gfn ${hex(gfn)} spte ${hex(spte)} (r${writable ? 'w' : '-'}xu) level ${level} at 0`,
    {
      gfn,
      spte: String(spte),
      level,
    },
  );
}

// ---- memory_failure (include/trace/events/memory-failure.h; include/ras/ras_event.h on older kernels)
export function trace_memory_failure_event(ctx: Ctx, system: string, pfn: number, type: string, result: string): void {
  if (!ctx.tr.on) return;
  emit(ctx, system, 'memory_failure_event', `pfn ${hex(pfn, 0, true)}: recovery action for ${type}: ${result}`, {
    pfn,
    type,
    result,
  });
}

// ---- signal (include/trace/events/signal.h)
export function trace_signal_generate(
  ctx: Ctx,
  sig: number,
  code: number,
  comm: string,
  pid: number,
  res: number,
  args?: Record<string, unknown>,
): void {
  if (!ctx.tr.on) return;
  emit(ctx, 'signal', 'signal_generate', `sig=${sig} errno=0 code=${code} comm=${comm} pid=${pid} grp=0 res=${res}`, {
    sig,
    code,
    pid,
    res,
    ...args,
  });
}
export function trace_signal_deliver(ctx: Ctx, sig: number, code: number): void {
  if (!ctx.tr.on) return;
  emit(ctx, 'signal', 'signal_deliver', `sig=${sig} errno=0 code=${code} sa_handler=1 sa_flags=4`, { sig, code });
}

// ---- printk (kernel/printk: the console tracepoint carries every log line)
export function trace_printk_line(ctx: Ctx, level: string, text: string): void {
  if (!ctx.tr.on) return;
  emit(ctx, 'printk', 'console', text, { level });
}

// ---- gmemsim: model-only events, clearly apart from the kernel's own tracepoints
export function trace_lock_acquire(ctx: Ctx, l: Lock, shared: boolean): void {
  if (!ctx.tr.on) return;
  emit(ctx, 'gmemsim', 'lock_acquire', `${l.name} ${shared ? 'shared' : 'exclusive'}`, { lock: l.id, shared });
}
export function trace_lock_release(ctx: Ctx, l: Lock, shared: boolean): void {
  if (!ctx.tr.on) return;
  emit(ctx, 'gmemsim', 'lock_release', `${l.name} ${shared ? 'shared' : 'exclusive'}`, { lock: l.id, shared });
}
export function trace_gmemsim(ctx: Ctx, name: string, text: string, args?: Record<string, unknown>): void {
  if (!ctx.tr.on) return;
  emit(ctx, 'gmemsim', name, text, args);
}
