// mmap(2) and munmap(2) (mm/mmap.c, mm/vma.c, arch/x86/kernel/sys_x86_64.c).
import { down_write, up_write } from '../core/locking.js';
import { type Ctx, type KGen, wr } from '../core/sched.js';
import { type File, FMODE_READ, FMODE_WRITE, fdget, fput_needs_release, get_file } from '../fs/file.js';
import { alloc_file, file_release } from '../fs/file_table.js';
import { kvm_gmem_mmap } from '../kvm/guest_memfd.js';
import { EACCES, EBADF, EINVAL, ENODEV, ENOMEM, EOVERFLOW } from '../uapi/errno.js';
import { O_RDWR } from '../uapi/fs.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_TYPE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from '../uapi/mman.js';
import { handle_mm_fault, zap_vma_range } from './memory.js';
import { type Mm, PAGE_SIZE, VM_EXEC, VM_MAYSHARE, VM_READ, VM_SHARED, VM_WRITE, type Vma } from './mm_types.js';
import { shmem_new_inode } from './shmem.js';

export const TASK_SIZE = 0x7ffffffff000;
const vmasKey = (mm: Mm) => `vmas:${mm.id}`;

function pageAlign(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

/** get_unmapped_area(), top-down. */
function get_unmapped_area(mm: Mm, len: number): number {
  let addr = mm.mmap_base - len;
  for (;;) {
    const clash = mm.vmas.find((v) => addr < v.vm_end && addr + len > v.vm_start);
    if (!clash) break;
    addr = clash.vm_start - len;
  }
  mm.mmap_base = addr;
  return addr;
}

function insert_vma(mm: Mm, vma: Vma): void {
  mm.vmas.push(vma);
  mm.vmas.sort((a, b) => a.vm_start - b.vm_start);
  if (vma.vm_file?.inode) vma.vm_file.inode.mapping.i_mmap.push(vma);
}

function remove_vma_from_file(vma: Vma): void {
  const list = vma.vm_file?.inode?.mapping.i_mmap;
  if (!list) return;
  const i = list.indexOf(vma);
  if (i >= 0) list.splice(i, 1);
}

/** ksys_mmap_pgoff() → do_mmap() → mmap_region(): returns the address or -errno. */
export function* sys_mmap(
  ctx: Ctx,
  addr: number,
  len: number,
  prot: number,
  flags: number,
  fd: number,
  off: bigint,
): KGen<number> {
  const proc = ctx.task.proc;
  if (off & BigInt(PAGE_SIZE - 1)) return -EINVAL; // sys_mmap(): offset must be page aligned
  let file: File | null = null;
  if (!(flags & MAP_ANONYMOUS)) {
    yield* wr(`fdtable:${proc.pid}`);
    file = fdget(proc, fd);
    if (!file) return -EBADF;
  }
  if (len === 0) return -EINVAL;
  const plen = pageAlign(len);
  if (plen > TASK_SIZE) return -ENOMEM; // get_unmapped_area(): no room in the address space
  const pgoff = Number(off / BigInt(PAGE_SIZE));
  if (pgoff + plen / PAGE_SIZE > Number.MAX_SAFE_INTEGER) return -EOVERFLOW;
  const type = flags & MAP_TYPE;
  let vm_flags =
    (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
  if (file) {
    if (type !== MAP_SHARED && type !== MAP_SHARED_VALIDATE && type !== MAP_PRIVATE) return -EINVAL;
    if (type !== MAP_PRIVATE) {
      if (prot & PROT_WRITE && !(file.f_mode & FMODE_WRITE)) return -EACCES;
      vm_flags |= VM_SHARED | VM_MAYSHARE;
    }
    if (!(file.f_mode & FMODE_READ)) return -EACCES;
    if (file.f_op !== 'kvm_gmem_fops' && file.f_op !== 'shmem_file_operations') return -ENODEV;
  } else {
    if (type !== MAP_SHARED && type !== MAP_SHARED_VALIDATE && type !== MAP_PRIVATE) return -EINVAL;
    if (type !== MAP_PRIVATE) vm_flags |= VM_SHARED | VM_MAYSHARE;
  }
  const mm = proc.mm;
  yield* down_write(ctx, mm.mmap_lock);
  try {
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
      if (addr % PAGE_SIZE) return -EINVAL;
      const clash = mm.vmas.some((v) => addr < v.vm_end && addr + plen > v.vm_start);
      if (clash && flags & MAP_FIXED_NOREPLACE) return -17; // EEXIST
      if (clash) yield* do_munmap(ctx, mm, addr, plen);
    } else {
      addr = get_unmapped_area(mm, plen);
    }
    if (addr + plen > TASK_SIZE) return -ENOMEM;
    if (file) {
      // call_mmap(): the file's own ->mmap may refuse
      if (file.f_op === 'kvm_gmem_fops') {
        const r = kvm_gmem_mmap(file, vm_flags);
        if (r) return r;
      }
      get_file(file);
    } else if (vm_flags & VM_SHARED) {
      // shmem_zero_setup(): shared anonymous memory is a shmem file of the mapping's size
      const inode = shmem_new_inode(ctx.k, plen);
      file = alloc_file(ctx.k, 'shmem_file_operations', O_RDWR, inode, null, '/dev/zero (deleted)');
    }
    yield* wr(vmasKey(mm));
    const vma: Vma = {
      id: ctx.k.ids.vma++,
      vm_start: addr,
      vm_end: addr + plen,
      vm_flags,
      vm_pgoff: file ? pgoff : 0,
      vm_file: file,
      mm,
    };
    insert_vma(mm, vma);
  } finally {
    yield* up_write(ctx, mm.mmap_lock);
  }
  if (flags & MAP_POPULATE) {
    const vma = mm.vmas.find((v) => v.vm_start === addr)!;
    for (let a = addr; a < addr + plen; a += PAGE_SIZE) {
      if ((yield* handle_mm_fault(ctx, vma, a, (prot & PROT_WRITE) !== 0)) !== 0) break;
    }
  }
  return addr;
}

/** do_vmi_munmap(): split VMAs at the edges, zap and unlink what is covered; drops file references. */
function* do_munmap(ctx: Ctx, mm: Mm, start: number, len: number): KGen<void> {
  const end = start + len;
  yield* wr(vmasKey(mm));
  for (const vma of [...mm.vmas]) {
    if (vma.vm_end <= start || vma.vm_start >= end) continue;
    const s = Math.max(start, vma.vm_start);
    const e = Math.min(end, vma.vm_end);
    yield* zap_vma_range(ctx, vma, s, e, true);
    if (s > vma.vm_start && e < vma.vm_end) {
      // split in two: the tail becomes a new VMA
      const tail: Vma = {
        ...vma,
        id: ctx.k.ids.vma++,
        vm_start: e,
        vm_pgoff: vma.vm_pgoff + (e - vma.vm_start) / PAGE_SIZE,
      };
      vma.vm_end = s;
      if (vma.vm_file) get_file(vma.vm_file);
      insert_vma(mm, tail);
    } else if (s > vma.vm_start) {
      vma.vm_end = s;
    } else if (e < vma.vm_end) {
      vma.vm_pgoff += (e - vma.vm_start) / PAGE_SIZE;
      vma.vm_start = e;
    } else {
      mm.vmas.splice(mm.vmas.indexOf(vma), 1);
      remove_vma_from_file(vma);
      if (vma.vm_file && fput_needs_release(vma.vm_file)) yield* file_release(ctx, vma.vm_file);
    }
  }
}

/** munmap(2) */
export function* sys_munmap(ctx: Ctx, addr: number, len: number): KGen<number> {
  if (addr % PAGE_SIZE || addr > TASK_SIZE || len > TASK_SIZE - addr) return -EINVAL;
  const plen = pageAlign(len);
  if (plen === 0) return -EINVAL;
  const mm = ctx.task.proc.mm;
  yield* down_write(ctx, mm.mmap_lock);
  yield* do_munmap(ctx, mm, addr, plen);
  yield* up_write(ctx, mm.mmap_lock);
  return 0;
}
