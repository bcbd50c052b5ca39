// read/write/pread/pwrite/lseek (fs/read_write.c), shmem's read_iter/write_iter/llseek behind them for memfds
// (mm/shmem.c, mm/filemap.c), and fstat (fs/stat.c).
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import {
  dataKey,
  filemap_get_folio,
  filemap_get_or_create_folio,
  folio_unlock,
  folioKey,
  pcKey,
} from '../mm/filemap.js';
import {
  type AddressSpace,
  type Folio,
  type Inode,
  PAGE_SIZE,
  PG_dirty,
  PG_hwpoison,
  PG_referenced,
  PG_uptodate,
} from '../mm/mm_types.js';
import { folio_put, frame_fill } from '../mm/page_alloc.js';
import { MAX_LFS_FILESIZE } from '../mm/shmem.js';
import { EBADF, EFBIG, EINVAL, EIO, ENXIO, ESPIPE } from '../uapi/errno.js';
import { S_IFCHR, S_IFREG } from '../uapi/fs.js';
import {
  type File,
  FMODE_CAN_READ,
  FMODE_CAN_WRITE,
  FMODE_LSEEK,
  FMODE_PREAD,
  FMODE_PWRITE,
  FMODE_READ,
  FMODE_WRITE,
  fdget,
} from './file.js';

/** INT_MAX & PAGE_MASK: the most one read or write transfers (include/linux/fs.h) */
const MAX_RW_COUNT = 0x7ffff000;
const LLONG_MAX = 2 ** 63 - 1;
const SEEK_CUR = 1;
const SEEK_END = 2;
const SEEK_DATA = 3;
const SEEK_HOLE = 4;

function* fileOf(ctx: Ctx, fd: number): KGen<File | null> {
  yield* rd(`fdtable:${ctx.task.proc.pid}`);
  return fdget(ctx.task.proc, fd);
}

/** rw_verify_area(): a negative count or position, or one whose end overflows loff_t, is EINVAL. */
function rw_verify_area(pos: number, count: number): number {
  if (count > LLONG_MAX || pos < 0 || pos + count > LLONG_MAX) return -EINVAL;
  return 0;
}

/** folio_mark_accessed() as far as the model's flags go: the first access sets PG_referenced (mm/swap.c). */
function folio_mark_accessed(folio: Folio): void {
  folio.flags |= PG_referenced;
}

/**
 * shmem_file_read_iter(): copy out of the page cache from pos, stopping at i_size; holes read as zeroes and are
 * not filled in. A poisoned page ends the read: -EIO, or the bytes read before it.
 */
function* shmem_file_read_iter(ctx: Ctx, inode: Inode, pos: number, count: number): KGen<{ ret: number; pos: number }> {
  let done = 0;
  let error = 0;
  while (done < count && pos < inode.i_size) {
    const index = Math.floor(pos / PAGE_SIZE);
    const offset = pos - index * PAGE_SIZE;
    const folio = yield* filemap_get_folio(inode.mapping, index); // shmem_get_folio(SGP_READ)
    if (folio) {
      yield* (offset === 0 ? wr : rd)(folioKey(folio));
      if (folio.flags & PG_hwpoison) {
        yield* folio_put(ctx, folio);
        error = -EIO;
        break;
      }
      if (offset === 0) folio_mark_accessed(folio);
      yield* folio_put(ctx, folio);
    }
    const nr = Math.min(Math.min(inode.i_size, pos + count - done) - pos, PAGE_SIZE - offset);
    done += nr;
    pos += nr;
  }
  return { ret: done || error, pos };
}

/**
 * shmem_file_write_iter(): generic_write_checks() against MAX_LFS_FILESIZE (a memfd is O_LARGEFILE), then
 * generic_perform_write() page by page: shmem_write_begin() allocates the folio and refuses a poisoned one with
 * -EIO, shmem_write_end() grows i_size and marks the folio uptodate and dirty. Seals are not modeled.
 */
function* shmem_file_write_iter(
  ctx: Ctx,
  inode: Inode,
  pos: number,
  count: number,
  byte: number,
): KGen<{ ret: number; pos: number }> {
  if (count === 0) return { ret: 0, pos };
  if (pos >= MAX_LFS_FILESIZE) return { ret: -EFBIG, pos };
  const total = Math.min(count, MAX_LFS_FILESIZE - pos);
  let done = 0;
  while (done < total) {
    const index = Math.floor(pos / PAGE_SIZE);
    const offset = pos - index * PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - offset, total - done);
    // shmem_get_folio(SGP_WRITE): a new folio is marked referenced, an existing one accessed
    const folio = yield* filemap_get_or_create_folio(ctx, inode.mapping, index);
    yield* wr(folioKey(folio));
    if (folio.flags & PG_hwpoison) {
      yield* folio_unlock(ctx, folio);
      yield* folio_put(ctx, folio);
      return { ret: done || -EIO, pos };
    }
    folio_mark_accessed(folio);
    yield* wr(dataKey(folio));
    frame_fill(folio, offset, n, byte);
    if (pos + n > inode.i_size) inode.i_size = pos + n;
    folio.flags |= PG_uptodate | PG_dirty;
    yield* folio_unlock(ctx, folio);
    yield* folio_put(ctx, folio);
    done += n;
    pos += n;
  }
  return { ret: done, pos };
}

/** vfs_read(): EBADF without FMODE_READ, EINVAL without a read method (guest_memfd, KVM fds). */
function* vfs_read(ctx: Ctx, f: File, count: number, pos: number): KGen<{ ret: number; pos: number }> {
  if (!(f.f_mode & FMODE_READ)) return { ret: -EBADF, pos };
  if (!(f.f_mode & FMODE_CAN_READ)) return { ret: -EINVAL, pos };
  const err = rw_verify_area(pos, count);
  if (err) return { ret: err, pos };
  return yield* shmem_file_read_iter(ctx, f.inode!, pos, Math.min(count, MAX_RW_COUNT));
}

/** vfs_write(): EBADF without FMODE_WRITE, EINVAL without a write method. */
function* vfs_write(ctx: Ctx, f: File, count: number, pos: number, byte: number): KGen<{ ret: number; pos: number }> {
  if (!(f.f_mode & FMODE_WRITE)) return { ret: -EBADF, pos };
  if (!(f.f_mode & FMODE_CAN_WRITE)) return { ret: -EINVAL, pos };
  const err = rw_verify_area(pos, count);
  if (err) return { ret: err, pos };
  return yield* shmem_file_write_iter(ctx, f.inode!, pos, Math.min(count, MAX_RW_COUNT), byte);
}

/** ksys_read(): reads at f_pos and moves it on by what was read. */
export function* sys_read(ctx: Ctx, fd: number, count: number): KGen<number> {
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  const r = yield* vfs_read(ctx, f, count, f.f_pos);
  if (r.ret >= 0) f.f_pos = r.pos;
  return r.ret;
}

/** ksys_write(): writes at f_pos and moves it on by what was written. */
export function* sys_write(ctx: Ctx, fd: number, count: number, byte: number): KGen<number> {
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  const r = yield* vfs_write(ctx, f, count, f.f_pos, byte);
  if (r.ret >= 0) f.f_pos = r.pos;
  return r.ret;
}

/** ksys_pread64(): negative pos is EINVAL before the fd lookup; files without FMODE_PREAD give ESPIPE. */
export function* sys_pread64(ctx: Ctx, fd: number, count: number, pos: number): KGen<number> {
  if (pos < 0) return -EINVAL;
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  if (!(f.f_mode & FMODE_PREAD)) return -ESPIPE;
  return (yield* vfs_read(ctx, f, count, pos)).ret;
}

/** ksys_pwrite64(); f_pos is left alone. */
export function* sys_pwrite64(ctx: Ctx, fd: number, count: number, pos: number, byte: number): KGen<number> {
  if (pos < 0) return -EINVAL;
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  if (!(f.f_mode & FMODE_PWRITE)) return -ESPIPE;
  return (yield* vfs_write(ctx, f, count, pos, byte)).ret;
}

/** vfs_setpos() */
function vfs_setpos(f: File, offset: number, maxsize: number): number {
  if (offset < 0 || offset > maxsize) return -EINVAL;
  f.f_pos = offset;
  return offset;
}

/** generic_file_llseek_size() */
function generic_file_llseek_size(f: File, offset: number, whence: number, maxsize: number, eof: number): number {
  switch (whence) {
    case SEEK_END:
      return vfs_setpos(f, offset + eof, maxsize);
    case SEEK_CUR:
      return offset === 0 ? f.f_pos : vfs_setpos(f, f.f_pos + offset, maxsize);
    case SEEK_DATA:
      if (offset < 0 || offset >= eof) return -ENXIO; // compared as unsigned
      return vfs_setpos(f, offset, maxsize);
    case SEEK_HOLE:
      if (offset < 0 || offset >= eof) return -ENXIO;
      return vfs_setpos(f, eof, maxsize);
    default: // SEEK_SET
      return vfs_setpos(f, offset, maxsize);
  }
}

/**
 * mapping_seek_hole_data() (mm/filemap.c) for order-0 shmem folios: an uptodate folio is data, anything else
 * (no folio, or one fallocated and never written) a hole; the end of file is a hole.
 */
function* mapping_seek_hole_data(m: AddressSpace, start: number, end: number, whence: number): KGen<number> {
  if (end <= start) return -ENXIO;
  yield* rd(pcKey(m));
  const first = Math.floor(start / PAGE_SIZE);
  const max = Math.floor((end - 1) / PAGE_SIZE);
  const present = [...m.pages.keys()].filter((i) => i >= first && i <= max).sort((a, b) => a - b);
  for (const index of present) {
    const folio = m.pages.get(index)!;
    const pos = index * PAGE_SIZE;
    if (start < pos) {
      if (whence === SEEK_HOLE) return Math.min(start, end);
      start = pos;
    }
    yield* rd(folioKey(folio));
    const data = (folio.flags & PG_uptodate) !== 0;
    if (data === (whence === SEEK_DATA)) return Math.min(start, end);
    start = pos + PAGE_SIZE;
    if (start >= end) break;
  }
  if (whence === SEEK_DATA) return -ENXIO;
  return Math.min(start, end);
}

/** shmem_file_llseek(): SEEK_DATA/SEEK_HOLE look at the page cache, the rest is generic. */
function* shmem_file_llseek(f: File, offset: number, whence: number): KGen<number> {
  const inode = f.inode!;
  if (whence !== SEEK_DATA && whence !== SEEK_HOLE) {
    return generic_file_llseek_size(f, offset, whence, MAX_LFS_FILESIZE, inode.i_size);
  }
  if (offset < 0) return -ENXIO;
  const r = yield* mapping_seek_hole_data(inode.mapping, offset, inode.i_size, whence);
  return r < 0 ? r : vfs_setpos(f, r, MAX_LFS_FILESIZE);
}

/** ksys_lseek(): whence beyond SEEK_HOLE is EINVAL; vfs_llseek() gives ESPIPE without FMODE_LSEEK. */
export function* sys_lseek(ctx: Ctx, fd: number, offset: number, whence: number): KGen<number> {
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  if (whence > SEEK_HOLE) return -EINVAL;
  if (!(f.f_mode & FMODE_LSEEK)) return -ESPIPE;
  if (f.f_op === 'shmem_file_operations') return yield* shmem_file_llseek(f, offset, whence);
  return f.f_pos; // noop_llseek(): /dev/kvm, VM and vCPU fds
}

export interface Stat {
  readonly st_size: number;
  readonly st_blksize: number;
  readonly st_ino: number;
  readonly st_mode: number;
  readonly st_blocks: number;
}

/** The inode mode: shmem_file_setup() makes S_IRWXUGO files, guest_memfd's anon inode is 0600. */
function i_mode(inode: Inode): number {
  return S_IFREG | (inode.kind === 'shmem' ? 0o777 : 0o600);
}

/** vfs_fstat() */
export function* sys_fstat(ctx: Ctx, fd: number): KGen<Stat | number> {
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  if (!f.inode) {
    // /dev/kvm is a character device; VM and vCPU fds share the anon inode, whose mode has no file type
    const st_mode = f.f_op === 'kvm_chardev_ops' ? S_IFCHR | 0o600 : 0o600;
    return { st_size: 0, st_blksize: PAGE_SIZE, st_ino: 0, st_mode, st_blocks: 0 };
  }
  const blocks = f.inode.kind === 'shmem' ? f.inode.mapping.pages.size * (PAGE_SIZE >> 9) : 0;
  return {
    st_size: f.inode.i_size,
    st_blksize: PAGE_SIZE,
    st_ino: f.inode.ino,
    st_mode: i_mode(f.inode),
    st_blocks: blocks,
  };
}
