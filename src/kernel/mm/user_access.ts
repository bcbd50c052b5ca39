// User-mode loads and stores as the CPU performs them: a page walk, a fault on a missing PTE
// (arch/x86/mm/fault.c do_user_addr_fault()), and a machine check when a live PTE maps corrupted memory.

import { audit_gmem_access, audit_overwritten } from '../audit.js';
import { down_read, up_read } from '../core/locking.js';
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import { force_sig_info } from '../task/signal.js';
import { SIGSEGV } from '../uapi/signal.js';
import { do_machine_check } from '../x86/mce.js';
import { dataKey } from './filemap.js';
import { do_sigbus, find_vma, handle_mm_fault, pteKey } from './memory.js';
import { type Folio, PAGE_SIZE, VM_READ, VM_WRITE } from './mm_types.js';
import { frame_fill, frame_read, frame_write } from './page_alloc.js';

export type UserAccessResult = { ok: true; value: bigint } | { ok: false };

const SEGV_MAPERR = 1;
const SEGV_ACCERR = 2;

/** The PTE-mapped folio for a user access, faulting it in; null after a fault that raised a signal. */
function* user_page(ctx: Ctx, addr: number, write: boolean): KGen<Folio | null> {
  const mm = ctx.task.proc.mm;
  const vpn = Math.floor(addr / PAGE_SIZE);
  for (let tries = 0; tries < 3; tries++) {
    yield* rd(pteKey(mm, vpn));
    const pte = mm.pt.get(vpn);
    if (pte?.kind === 'present' && (!write || pte.writable)) {
      if (write) pte.dirty = true;
      return pte.folio;
    }
    yield* down_read(ctx, mm.mmap_lock);
    const vma = find_vma(mm, addr);
    let fault = 0;
    let segv = 0;
    if (!vma) segv = SEGV_MAPERR;
    else if (!(vma.vm_flags & (write ? VM_WRITE : VM_READ))) segv = SEGV_ACCERR;
    else fault = yield* handle_mm_fault(ctx, vma, addr, write);
    yield* up_read(ctx, mm.mmap_lock);
    if (segv) {
      // bad_area(): SIGSEGV
      yield* force_sig_info(ctx, { signo: SIGSEGV, code: segv, addr, addr_lsb: 0 });
      return null;
    }
    if (fault) {
      yield* do_sigbus(ctx, addr, fault);
      return null;
    }
  }
  return null;
}

function auditHost(ctx: Ctx, folio: Folio, addr: number, size: number, write: boolean, value: bigint): void {
  if (folio.mapping?.a_ops === 'kvm_gmem_aops') {
    audit_gmem_access(ctx, 'host', folio.mapping.host.ino, folio.index, addr % PAGE_SIZE, size, write, value);
  }
}

/** The pages an access of `size` bytes at addr touches: one, or two when it straddles a page boundary. */
function accessParts(addr: number, size: number): Array<{ addr: number; size: number }> {
  const first = Math.min(size, PAGE_SIZE - (addr % PAGE_SIZE));
  return first === size
    ? [{ addr, size }]
    : [
        { addr, size: first },
        { addr: addr + first, size: size - first },
      ];
}

/**
 * Faults in every page of the access before any byte moves, as the CPU translates both halves of a split access
 * before it commits; then a consumed poison queues the MCE kill for the return to user mode. Null when it failed.
 */
function* user_access_pages(ctx: Ctx, addr: number, size: number, write: boolean): KGen<Folio[] | null> {
  const parts = accessParts(addr, size);
  const folios: Folio[] = [];
  for (const part of parts) {
    const folio = yield* user_page(ctx, part.addr, write);
    if (!folio) return null;
    folios.push(folio);
  }
  for (const folio of folios) {
    yield* (write ? wr : rd)(dataKey(folio));
    if (folio.corrupt) {
      yield* do_machine_check(ctx, folio.pfn, false);
      return null;
    }
  }
  return folios;
}

/** A load of `size` bytes at addr (little-endian, possibly across two pages). */
export function* user_load(ctx: Ctx, addr: number, size: number): KGen<UserAccessResult> {
  const folios = yield* user_access_pages(ctx, addr, size, false);
  if (!folios) return { ok: false };
  let value = 0n;
  let shift = 0n;
  accessParts(addr, size).forEach((part, i) => {
    const v = frame_read(folios[i], part.addr % PAGE_SIZE, part.size);
    auditHost(ctx, folios[i], part.addr, part.size, false, v);
    value |= v << shift;
    shift += BigInt(8 * part.size);
  });
  return { ok: true, value };
}

export function* user_store(ctx: Ctx, addr: number, size: number, value: bigint): KGen<UserAccessResult> {
  const folios = yield* user_access_pages(ctx, addr, size, true);
  if (!folios) return { ok: false };
  let rest = value;
  accessParts(addr, size).forEach((part, i) => {
    const bits = BigInt(8 * part.size);
    const v = BigInt.asUintN(Number(bits), rest);
    frame_write(folios[i], part.addr % PAGE_SIZE, part.size, v);
    auditHost(ctx, folios[i], part.addr, part.size, true, v);
    rest >>= bits;
  });
  return { ok: true, value: 0n };
}

/** memset(): page by page; bytes before a faulting page stay written. */
export function* user_memset(ctx: Ctx, addr: number, byte: number, length: number): KGen<boolean> {
  for (let a = addr; a < addr + length; ) {
    const folio = yield* user_page(ctx, a, true);
    if (!folio) return false;
    yield* wr(dataKey(folio));
    if (folio.corrupt) {
      yield* do_machine_check(ctx, folio.pfn, false);
      return false;
    }
    const off = a % PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - off, addr + length - a);
    frame_fill(folio, off, n, byte);
    if (folio.mapping?.a_ops === 'kvm_gmem_aops') audit_overwritten(ctx.k, folio.mapping.host.ino, folio.index, off, n);
    a += n;
  }
  return true;
}
