// guest_memfd (virt/kvm/guest_memfd.c): the gmem_inode holds the memory, each gmem_file is one VM's view with
// its memslot bindings. Error-handler variants from the 2023 review are selectable (options.error_handler).

import { trace_gmemsim } from '../../trace/points.js';
import { audit_mf_signal, audit_punched } from '../audit.js';
import { mutex_lock, mutex_unlock } from '../core/locking.js';
import { pr_warn, WARN_ON_ONCE } from '../core/printk.js';
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import { type File, fd_install, fdget, fput_needs_release, get_unused_fd_flags } from '../fs/file.js';
import { alloc_file, file_release } from '../fs/file_table.js';
import {
  filemap_get_or_create_folio,
  filemap_invalidate_lock,
  filemap_invalidate_lock_shared,
  filemap_invalidate_unlock,
  filemap_invalidate_unlock_shared,
  filemap_lock_folio,
  folio_unlock,
  folioKey,
} from '../mm/filemap.js';
import { new_inode } from '../mm/inode.js';
import { VM_FAULT_SIGBUS } from '../mm/memory.js';
import { task_maps_pfn } from '../mm/memory-failure.js';
import {
  type AddressSpace,
  type Folio,
  type Inode,
  PAGE_SIZE,
  PG_hwpoison,
  PG_uptodate,
  VM_MAYSHARE,
  VM_SHARED,
} from '../mm/mm_types.js';
import { clear_highpage, folio_put } from '../mm/page_alloc.js';
import { truncate_inode_folio, truncate_inode_pages_range } from '../mm/truncate.js';
import { send_sig_mceerr } from '../task/signal.js';
import { EBADF, EEXIST, EFAULT, EHWPOISON, EINTR, EINVAL, EIO, ENODEV, EOPNOTSUPP } from '../uapi/errno.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, O_LARGEFILE, O_RDWR } from '../uapi/fs.js';
import { GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP } from '../uapi/kvm.js';
import { BUS_MCEERR_AR } from '../uapi/signal.js';
import { type GmemFile, KVM_MEMSLOT_GMEM_ONLY, type Kvm, type KvmMemorySlot } from './kvm_host.js';
import {
  KVM_MMU_LOCK,
  KVM_MMU_UNLOCK,
  type KvmGfnRange,
  kvm_flush_remote_tlbs,
  kvm_get_kvm,
  kvm_mmu_invalidate_begin,
  kvm_mmu_invalidate_end,
  kvm_mmu_unmap_gfn_range,
  kvm_put_kvm,
} from './kvm_main.js';

// MF_* results of a_ops->error_remove_folio (include/linux/mm.h enum mf_result)
export const MF_IGNORED = 0;
export const MF_FAILED = 1;
export const MF_DELAYED = 2;
export const MF_RECOVERED = 3;

export const bindingsKey = (f: File) => `bindings:${f.id}`;
export const fileKey = (f: File) => `file:${f.id}`;
export const slotKey = (kvm: Kvm, slot: KvmMemorySlot) => `slot:${kvm.id}:${slot.id}`;

const GMEM = (f: File) => f.private_data as GmemFile;

/** kvm_gmem_get_supported_flags() (include/linux/kvm_host.h): INIT_SHARED only where the VM has no private memory. */
export function kvm_gmem_get_supported_flags(kvm: Kvm | null): number {
  let flags = GUEST_MEMFD_FLAG_MMAP;
  if (!kvm || kvm_arch_supports_gmem_init_shared(kvm)) flags |= GUEST_MEMFD_FLAG_INIT_SHARED;
  return flags;
}

/** x86: kvm_arch_supports_gmem_init_shared() = !kvm_arch_has_private_mem() */
function kvm_arch_supports_gmem_init_shared(kvm: Kvm): boolean {
  return !kvm.has_private_mem;
}

function gmemFiles(inode: Inode): File[] {
  return inode.gmem!.files;
}

/** kvm_gmem_get_index() */
export function kvm_gmem_get_index(slot: KvmMemorySlot, gfn: number): number {
  return gfn - slot.base_gfn + slot.gmem.pgoff;
}

// ---------------------------------------------------------------------------------------------- invalidation

/** __kvm_gmem_invalidate_begin(): zap every binding's gfns in [start, end), begin only if a binding exists. */
function* __kvm_gmem_invalidate_begin(ctx: Ctx, f: File, start: number, end: number): KGen<void> {
  const gf = GMEM(f);
  const kvm = gf.kvm;
  let flush = false;
  let found = false;
  yield* rd(bindingsKey(f));
  for (const slot of bindingsInRange(gf, start, end)) {
    const pgoff = slot.gmem.pgoff;
    const range: KvmGfnRange = {
      slot,
      start: slot.base_gfn + Math.max(pgoff, start) - pgoff,
      end: slot.base_gfn + Math.min(pgoff + slot.npages, end) - pgoff,
      may_block: true,
    };
    if (!found) {
      found = true;
      yield* KVM_MMU_LOCK(ctx, kvm);
      yield* kvm_mmu_invalidate_begin(ctx, kvm);
    }
    flush = (yield* kvm_mmu_unmap_gfn_range(ctx, kvm, range)) || flush;
  }
  if (flush) yield* kvm_flush_remote_tlbs(ctx, kvm);
  if (found) yield* KVM_MMU_UNLOCK(ctx, kvm);
}

/** Distinct slots bound in [start, end), in index order (xa_for_each_range over multi-index entries). */
export function bindingsInRange(gf: GmemFile, start: number, end: number): KvmMemorySlot[] {
  const out: KvmMemorySlot[] = [];
  for (const b of gf.bindings) {
    if (b.start < end && b.end > start) out.push(b.slot);
  }
  return out;
}

function* kvm_gmem_invalidate_begin(ctx: Ctx, inode: Inode, start: number, end: number): KGen<void> {
  trace_gmemsim(ctx, 'gmem_invalidate_begin', `ino ${inode.ino} index ${start.toString(16)}-${end.toString(16)}`, {
    ino: inode.ino,
    start,
    end,
  });
  for (const f of gmemFiles(inode)) yield* __kvm_gmem_invalidate_begin(ctx, f, start, end);
}

/** __kvm_gmem_invalidate_end(): end only if some binding overlaps (the same set as at begin, under invalidate_lock). */
function* __kvm_gmem_invalidate_end(ctx: Ctx, f: File, start: number, end: number): KGen<void> {
  const gf = GMEM(f);
  yield* rd(bindingsKey(f));
  if (bindingsInRange(gf, start, end).length > 0) {
    yield* KVM_MMU_LOCK(ctx, gf.kvm);
    yield* kvm_mmu_invalidate_end(ctx, gf.kvm);
    yield* KVM_MMU_UNLOCK(ctx, gf.kvm);
  }
}

function* kvm_gmem_invalidate_end(ctx: Ctx, inode: Inode, start: number, end: number): KGen<void> {
  for (const f of gmemFiles(inode)) yield* __kvm_gmem_invalidate_end(ctx, f, start, end);
  trace_gmemsim(ctx, 'gmem_invalidate_end', `ino ${inode.ino} index ${start.toString(16)}-${end.toString(16)}`, {
    ino: inode.ino,
    start,
    end,
  });
}

// ---------------------------------------------------------------------------------------------- fallocate

/** kvm_gmem_punch_hole(): exclusive invalidate_lock keeps bindings stable so begin/end balance. */
function* kvm_gmem_punch_hole(ctx: Ctx, inode: Inode, offset: number, len: number): KGen<number> {
  const start = Math.floor(offset / PAGE_SIZE);
  const end = Math.floor((offset + len) / PAGE_SIZE);
  yield* filemap_invalidate_lock(ctx, inode.mapping);
  yield* kvm_gmem_invalidate_begin(ctx, inode, start, end);
  yield* truncate_inode_pages_range(ctx, inode.mapping, offset, offset + len - 1);
  audit_punched(ctx.k, inode.ino, start, end);
  yield* kvm_gmem_invalidate_end(ctx, inode, start, end);
  yield* filemap_invalidate_unlock(ctx, inode.mapping);
  return 0;
}

/** kvm_gmem_allocate(): preallocate folios (not zeroed, not uptodate) under the shared invalidate_lock. */
function* kvm_gmem_allocate(ctx: Ctx, inode: Inode, offset: number, len: number): KGen<number> {
  if (offset + len > inode.i_size) return -EINVAL;
  yield* filemap_invalidate_lock_shared(ctx, inode.mapping);
  const start = Math.floor(offset / PAGE_SIZE);
  const end = Math.floor((offset + len) / PAGE_SIZE);
  let r = 0;
  for (let index = start; index < end; index++) {
    if (ctx.task.pending.length > 0) {
      r = -EINTR;
      break;
    }
    const folio = yield* kvm_gmem_get_folio(ctx, inode, index);
    yield* folio_unlock(ctx, folio);
    yield* folio_put(ctx, folio);
  }
  yield* filemap_invalidate_unlock_shared(ctx, inode.mapping);
  return r;
}

/** kvm_gmem_fallocate() (after vfs_fallocate()'s generic checks). */
export function* kvm_gmem_fallocate(ctx: Ctx, file: File, mode: number, offset: number, len: number): KGen<number> {
  if (!(mode & FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
  if (offset % PAGE_SIZE || len % PAGE_SIZE) return -EINVAL;
  if (mode & FALLOC_FL_PUNCH_HOLE) return yield* kvm_gmem_punch_hole(ctx, file.inode!, offset, len);
  return yield* kvm_gmem_allocate(ctx, file.inode!, offset, len);
}

// ---------------------------------------------------------------------------------------------- folios

/** kvm_gmem_get_folio(): find or allocate the order-0 folio at index, locked, with a reference. */
function* kvm_gmem_get_folio(ctx: Ctx, inode: Inode, index: number): KGen<Folio> {
  const found = yield* filemap_lock_folio(ctx, inode.mapping, index);
  if (typeof found !== 'number') return found;
  return yield* filemap_get_or_create_folio(ctx, inode.mapping, index);
}

/** kvm_gmem_fault_user_mapping(): host page faults on an mmap'ed guest_memfd; no hwpoison check of its own. */
export function* kvm_gmem_fault_user_mapping(ctx: Ctx, file: File, pgoff: number): KGen<Folio | number> {
  const inode = file.inode!;
  if (pgoff * PAGE_SIZE >= inode.i_size) return VM_FAULT_SIGBUS;
  if (!(inode.gmem!.flags & GUEST_MEMFD_FLAG_INIT_SHARED)) return VM_FAULT_SIGBUS;
  const folio = yield* kvm_gmem_get_folio(ctx, inode, pgoff);
  yield* wr(folioKey(folio));
  if (!(folio.flags & PG_uptodate)) {
    clear_highpage(folio);
    folio.flags |= PG_uptodate;
  }
  return folio;
}

/** kvm_gmem_mmap(): only with FLAG_MMAP, and only MAP_SHARED. */
export function kvm_gmem_mmap(file: File, vm_flags: number): number {
  if (!(file.inode!.gmem!.flags & GUEST_MEMFD_FLAG_MMAP)) return -ENODEV;
  if ((vm_flags & (VM_SHARED | VM_MAYSHARE)) !== (VM_SHARED | VM_MAYSHARE)) return -EINVAL;
  return 0;
}

// ---------------------------------------------------------------------------------------------- create

/** kvm_gmem_create(): flags first, then size (read as signed loff_t). */
export function* kvm_gmem_create(ctx: Ctx, kvm: Kvm, size: bigint, flags: bigint): KGen<number> {
  if (flags & ~BigInt(kvm_gmem_get_supported_flags(kvm))) return -EINVAL;
  const ssize = BigInt.asIntN(64, size);
  if (ssize <= 0n || ssize % BigInt(PAGE_SIZE) !== 0n) return -EINVAL;
  return yield* __kvm_gmem_create(ctx, kvm, Number(ssize), Number(flags));
}

function* __kvm_gmem_create(ctx: Ctx, kvm: Kvm, size: number, flags: number): KGen<number> {
  const proc = ctx.task.proc;
  yield* wr(`fdtable:${proc.pid}`);
  const fd = get_unused_fd_flags(proc);
  if (fd < 0) return fd;
  const inode = new_inode(ctx.k, 'guest_memfd', size, 'kvm_gmem_aops');
  (inode as { gmem: Inode['gmem'] }).gmem = { flags, files: [] };
  inode.mapping.unevictable = true; // mapping_set_inaccessible(): unmovable and unevictable
  const gf: GmemFile = { kvm, inode, bindings: [] };
  const file = alloc_file(ctx.k, 'kvm_gmem_fops', O_RDWR | O_LARGEFILE, inode, gf, '[kvm-gmem]');
  kvm_get_kvm(kvm);
  inode.gmem!.files.push(file);
  fd_install(proc, fd, file);
  return fd;
}

// ---------------------------------------------------------------------------------------------- bind

/** kvm_gmem_bind(): called for a new memslot under slots_lock, before it is visible. */
export function* kvm_gmem_bind(ctx: Ctx, kvm: Kvm, slot: KvmMemorySlot, fd: number, offset: bigint): KGen<number> {
  const size = slot.npages * PAGE_SIZE;
  const proc = ctx.task.proc;
  yield* rd(`fdtable:${proc.pid}`);
  const file = fdget(proc, fd);
  if (!file) return -EBADF;
  if (file.f_op !== 'kvm_gmem_fops') return -EINVAL;
  const gf = GMEM(file);
  if (gf.kvm !== kvm) return -EINVAL;
  const inode = file.inode!;
  const off = ctx.k.traits.gmemBindOverlapEexist ? offset : BigInt.asIntN(64, offset);
  if (off < 0n || off % BigInt(PAGE_SIZE) !== 0n || off + BigInt(size) > BigInt(inode.i_size)) return -EINVAL;

  yield* filemap_invalidate_lock(ctx, inode.mapping);
  const start = Number(off) / PAGE_SIZE;
  const end = start + slot.npages;
  yield* rd(bindingsKey(file));
  if (bindingsInRange(gf, start, end).length > 0) {
    yield* filemap_invalidate_unlock(ctx, inode.mapping);
    return ctx.k.traits.gmemBindOverlapEexist ? -EEXIST : -EINVAL;
  }
  yield* wr(slotKey(kvm, slot));
  slot.gmem.file = file;
  slot.gmem.pgoff = start;
  if (inode.gmem!.flags & GUEST_MEMFD_FLAG_MMAP) slot.flags |= KVM_MEMSLOT_GMEM_ONLY;
  yield* wr(bindingsKey(file));
  gf.bindings.push({ start, end, slot });
  yield* filemap_invalidate_unlock(ctx, inode.mapping);
  // The slot does not pin the file: the file pins KVM, not the other way round.
  return 0;
}

function* __kvm_gmem_unbind(_ctx: Ctx, kvm: Kvm, slot: KvmMemorySlot, file: File): KGen<void> {
  const gf = GMEM(file);
  yield* wr(bindingsKey(file));
  const i = gf.bindings.findIndex((b) => b.slot === slot);
  if (i >= 0) gf.bindings.splice(i, 1);
  yield* wr(slotKey(kvm, slot));
  slot.gmem.file = null;
}

/** kvm_gmem_unbind(): memslot deletion; a file being closed concurrently has its bindings edited without the lock. */
export function* kvm_gmem_unbind(ctx: Ctx, kvm: Kvm, slot: KvmMemorySlot): KGen<void> {
  yield* rd(slotKey(kvm, slot));
  const slotFile = slot.gmem.file;
  if (!slotFile) return;
  const file = yield* kvm_gmem_get_file(ctx, kvm, slot);
  if (!file) {
    yield* __kvm_gmem_unbind(ctx, kvm, slot, slotFile);
    return;
  }
  yield* filemap_invalidate_lock(ctx, file.inode!.mapping);
  yield* __kvm_gmem_unbind(ctx, kvm, slot, file);
  yield* filemap_invalidate_unlock(ctx, file.inode!.mapping);
  yield* fput(ctx, file);
}

/** get_file_active(&slot->gmem.file): a reference unless the file is already being released. */
function* kvm_gmem_get_file(_ctx: Ctx, kvm: Kvm, slot: KvmMemorySlot): KGen<File | null> {
  yield* rd(slotKey(kvm, slot));
  const f = slot.gmem.file;
  if (!f) return null;
  // an increment: commutes with others, conflicts with the last fput
  yield* rd(fileKey(f));
  if (f.f_count === 0) return null;
  f.f_count++;
  return f;
}

/**
 * fput(): a write of the count. Only the last reference releases the file, but which one is last depends on the
 * gets and puts before it, so every put is ordered against them (see AccessPoint.wholeIf for the same argument).
 */
function* fput(ctx: Ctx, f: File): KGen<void> {
  yield* wr(fileKey(f));
  if (fput_needs_release(f)) yield* file_release(ctx, f);
}

// ---------------------------------------------------------------------------------------------- release

/** kvm_gmem_release(): the last file reference. Memslots survive; the memory belongs to the inode. */
export function* kvm_gmem_release(ctx: Ctx, inode: Inode, file: File): KGen<void> {
  const gf = GMEM(file);
  const kvm = gf.kvm;
  yield* mutex_lock(ctx, kvm.slots_lock);
  yield* filemap_invalidate_lock(ctx, inode.mapping);
  yield* rd(bindingsKey(file));
  for (const b of gf.bindings) {
    yield* wr(slotKey(kvm, b.slot));
    b.slot.gmem.file = null;
  }
  yield* __kvm_gmem_invalidate_begin(ctx, file, 0, Number.MAX_SAFE_INTEGER);
  yield* __kvm_gmem_invalidate_end(ctx, file, 0, Number.MAX_SAFE_INTEGER);
  const files = inode.gmem!.files;
  files.splice(files.indexOf(file), 1);
  yield* filemap_invalidate_unlock(ctx, inode.mapping);
  yield* mutex_unlock(ctx, kvm.slots_lock);
  yield* wr(bindingsKey(file));
  gf.bindings.length = 0;
  yield* kvm_put_kvm(ctx, kvm);
}

// ---------------------------------------------------------------------------------------------- get_pfn

export interface GmemPfn {
  readonly folio: Folio;
  readonly pfn: number;
}

/** __kvm_gmem_get_pfn(): returns the folio locked, or -errno. */
function* __kvm_gmem_get_pfn(ctx: Ctx, file: File, kvm: Kvm, slot: KvmMemorySlot, index: number): KGen<Folio | number> {
  yield* rd(slotKey(kvm, slot));
  const slotFile = slot.gmem.file;
  if (file !== slotFile) {
    WARN_ON_ONCE(ctx, slotFile !== null, 'virt/kvm/guest_memfd.c:__kvm_gmem_get_pfn', 'slot_file');
    return -EFAULT;
  }
  const gf = GMEM(file);
  yield* rd(bindingsKey(file));
  const bound = bindingsInRange(gf, index, index + 1)[0] ?? null;
  if (bound !== slot) {
    WARN_ON_ONCE(ctx, bound !== null, 'virt/kvm/guest_memfd.c:__kvm_gmem_get_pfn', 'xa_load(&f->bindings, index)');
    return -EIO;
  }
  const folio = yield* kvm_gmem_get_folio(ctx, file.inode!, index);
  yield* rd(folioKey(folio));
  if (folio.flags & PG_hwpoison) {
    yield* folio_unlock(ctx, folio);
    yield* folio_put(ctx, folio);
    return -EHWPOISON;
  }
  return folio;
}

/** kvm_gmem_get_pfn(): the pfn for gfn with a page reference, or -errno (EFAULT, EIO, EHWPOISON, ...). */
export function* kvm_gmem_get_pfn(ctx: Ctx, kvm: Kvm, slot: KvmMemorySlot, gfn: number): KGen<GmemPfn | number> {
  const index = kvm_gmem_get_index(slot, gfn);
  const file = yield* kvm_gmem_get_file(ctx, kvm, slot);
  if (!file) return -EFAULT;
  try {
    const r = yield* __kvm_gmem_get_pfn(ctx, file, kvm, slot, index);
    if (typeof r === 'number') return r;
    const folio = r;
    yield* wr(folioKey(folio));
    if (!(folio.flags & PG_uptodate)) {
      clear_highpage(folio);
      folio.flags |= PG_uptodate;
    }
    // kvm_gmem_prepare_folio(): no arch prepare hook on SW_PROTECTED/default VMs
    yield* folio_unlock(ctx, folio);
    return { folio, pfn: folio.pfn };
  } finally {
    yield* fput(ctx, file);
  }
}

// ---------------------------------------------------------------------------------------------- errors

/** a_ops->error_remove_folio for guest_memfd: the variant selected by options.error_handler. */
export function* kvm_gmem_error_folio(ctx: Ctx, mapping: AddressSpace, folio: Folio): KGen<number> {
  switch (ctx.k.opts.error_handler) {
    case 'mainline':
      return yield* kvm_gmem_error_folio_mainline(ctx, mapping, folio);
    case 'original-2023':
      return yield* kvm_gmem_error_page_original(ctx, mapping, folio);
    case 'rfc-2023':
      return yield* kvm_gmem_error_page_rfc(ctx, mapping, folio);
    case 'truncate':
      return yield* kvm_gmem_error_folio_truncate(ctx, mapping, folio);
  }
}

/** Mainline (6.8+): zap every SPTE of the folio between begin/end, do not truncate, return MF_DELAYED. */
function* kvm_gmem_error_folio_mainline(ctx: Ctx, mapping: AddressSpace, folio: Folio): KGen<number> {
  yield* filemap_invalidate_lock_shared(ctx, mapping);
  const start = folio.index;
  const end = start + (1 << folio.order);
  yield* kvm_gmem_invalidate_begin(ctx, mapping.host, start, end);
  // No truncation: what to do about the error is userspace's decision.
  yield* kvm_gmem_invalidate_end(ctx, mapping.host, start, end);
  yield* filemap_invalidate_unlock_shared(ctx, mapping);
  return MF_DELAYED;
}

/**
 * The handler as it stood in guest_memfd v11/v12-pre (seed-thread.md variant a): a SIGBUS per page to current,
 * looping over file indices as if they were gfns, and no SPTE zap. Returns 0.
 */
function* kvm_gmem_error_page_original(ctx: Ctx, mapping: AddressSpace, folio: Folio): KGen<number> {
  yield* filemap_invalidate_lock_shared(ctx, mapping);
  const start = folio.index;
  const end = start + (1 << folio.order);
  for (const f of gmemFiles(mapping.host)) {
    yield* rd(bindingsKey(f));
    for (const slot of bindingsInRange(GMEM(f), start, end)) {
      for (let gfn = start; gfn < end; gfn++) {
        if (
          WARN_ON_ONCE(
            ctx,
            gfn < slot.base_gfn || gfn >= slot.base_gfn + slot.npages,
            'virt/kvm/guest_mem.c:kvm_gmem_error_page',
            'gfn < slot->base_gfn || gfn >= slot->base_gfn + slot->npages',
          )
        ) {
          continue;
        }
        const hva = slot.userspace_addr + (gfn - slot.base_gfn) * PAGE_SIZE; // gfn_to_hva_memslot()
        audit_mf_signal(ctx, ctx.task, task_maps_pfn(ctx.task, folio.pfn));
        yield* send_sig_mceerr(ctx, BUS_MCEERR_AR, hva, 12, ctx.task);
      }
    }
  }
  yield* filemap_invalidate_unlock_shared(ctx, mapping);
  return 0;
}

/**
 * Isaku Yamahata's RFC v1 2/6 (Sep 2023, variant b): begin under mmu_lock, but the unmap and range_add run with
 * mmu_lock dropped; begin/end are unconditional per gmem file. Returns MF_DELAYED.
 */
function* kvm_gmem_error_page_rfc(ctx: Ctx, mapping: AddressSpace, folio: Folio): KGen<number> {
  yield* filemap_invalidate_lock_shared(ctx, mapping);
  const start = folio.index;
  const end = start + (1 << folio.order);
  for (const f of gmemFiles(mapping.host)) {
    const kvm = GMEM(f).kvm;
    yield* KVM_MMU_LOCK(ctx, kvm);
    yield* kvm_mmu_invalidate_begin(ctx, kvm);
    yield* KVM_MMU_UNLOCK(ctx, kvm);
    let flush = false;
    yield* rd(bindingsKey(f));
    for (const slot of bindingsInRange(GMEM(f), start, end)) {
      if (
        WARN_ON_ONCE(
          ctx,
          end < slot.base_gfn || start >= slot.base_gfn + slot.npages,
          'virt/kvm/guest_mem.c:kvm_gmem_error_page',
          'end < slot->base_gfn || start >= slot->base_gfn + slot->npages',
        )
      ) {
        continue;
      }
      const pgoff = slot.gmem.pgoff;
      flush =
        (yield* kvm_mmu_unmap_gfn_range(ctx, kvm, {
          slot,
          start: slot.base_gfn + Math.max(pgoff, start) - pgoff,
          end: slot.base_gfn + Math.min(pgoff + slot.npages, end) - pgoff,
          may_block: true,
        })) || flush;
    }
    if (flush) yield* kvm_flush_remote_tlbs(ctx, kvm);
    yield* KVM_MMU_LOCK(ctx, kvm);
    yield* kvm_mmu_invalidate_end(ctx, kvm);
    yield* KVM_MMU_UNLOCK(ctx, kvm);
  }
  yield* filemap_invalidate_unlock_shared(ctx, mapping);
  return MF_DELAYED;
}

/**
 * Truncate-on-error (variant d): zap, then remove the folio from the file inside the handler, as
 * generic_error_remove_folio() does for ordinary files. Returns 0 (success).
 */
function* kvm_gmem_error_folio_truncate(ctx: Ctx, mapping: AddressSpace, folio: Folio): KGen<number> {
  yield* filemap_invalidate_lock_shared(ctx, mapping);
  const start = folio.index;
  const end = start + (1 << folio.order);
  yield* kvm_gmem_invalidate_begin(ctx, mapping.host, start, end);
  const r = yield* truncate_inode_folio(ctx, mapping, folio);
  yield* kvm_gmem_invalidate_end(ctx, mapping.host, start, end);
  yield* filemap_invalidate_unlock_shared(ctx, mapping);
  if (r) pr_warn(ctx, `gmem: truncate_inode_folio failed: ${r}`);
  return r;
}
