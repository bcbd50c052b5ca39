// read/write/pread/pwrite/lseek (fs/read_write.c) and fstat (fs/stat.c).
import { type Ctx, type KGen, rd } from '../core/sched.js';
import { PAGE_SIZE } from '../mm/mm_types.js';
import { shmem_read, shmem_write } from '../mm/shmem.js';
import { EBADF, EINVAL, ESPIPE } from '../uapi/errno.js';
import { S_IFCHR, S_IFREG } from '../uapi/fs.js';
import { type File, FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE, FMODE_READ, FMODE_WRITE, fdget } from './file.js';

/** Whether the file's operations have read/write methods (FMODE_CAN_READ/WRITE are set only then). */
function canRead(f: File): boolean {
  return f.f_op === 'shmem_file_operations';
}

function* fileOf(ctx: Ctx, fd: number): KGen<File | null> {
  yield* rd(`fdtable:${ctx.task.proc.pid}`);
  return fdget(ctx.task.proc, fd);
}

/** vfs_read(): EBADF without FMODE_READ, EINVAL without a read method (guest_memfd, KVM fds). */
function vfs_read(f: File, count: number, pos: number): number {
  if (!(f.f_mode & FMODE_READ)) return -EBADF;
  if (!canRead(f)) return -EINVAL;
  return shmem_read(f.inode!, pos, count);
}

function* vfs_write(ctx: Ctx, f: File, count: number, pos: number, byte: number): KGen<number> {
  if (!(f.f_mode & FMODE_WRITE)) return -EBADF;
  if (!canRead(f)) return -EINVAL;
  return yield* shmem_write(ctx, f.inode!, pos, count, byte);
}

export function* sys_read(ctx: Ctx, fd: number, count: number): KGen<number> {
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  const r = vfs_read(f, count, f.f_pos);
  if (r > 0) f.f_pos += r;
  return r;
}

export function* sys_write(ctx: Ctx, fd: number, count: number, byte: number): KGen<number> {
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  const r = yield* vfs_write(ctx, f, count, f.f_pos, byte);
  if (r > 0) f.f_pos += r;
  return r;
}

/** ksys_pread64(): negative pos is EINVAL before the fd lookup; pseudo files lack FMODE_PREAD (ESPIPE). */
export function* sys_pread64(ctx: Ctx, fd: number, count: number, pos: number): KGen<number> {
  if (pos < 0) return -EINVAL;
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  if (!(f.f_mode & FMODE_PREAD)) return -ESPIPE;
  return vfs_read(f, count, pos);
}

export function* sys_pwrite64(ctx: Ctx, fd: number, count: number, pos: number, byte: number): KGen<number> {
  if (pos < 0) return -EINVAL;
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  if (!(f.f_mode & FMODE_PWRITE)) return -ESPIPE;
  return yield* vfs_write(ctx, f, count, pos, byte);
}

/** vfs_llseek(): files without ->llseek never get FMODE_LSEEK. */
export function* sys_lseek(ctx: Ctx, fd: number, offset: number, whence: number): KGen<number> {
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  if (!(f.f_mode & FMODE_LSEEK)) return -ESPIPE;
  if (whence > 4) return -EINVAL;
  const size = f.inode?.i_size ?? 0;
  const base = whence === 0 ? 0 : whence === 1 ? f.f_pos : size;
  const pos = whence === 3 ? offset : whence === 4 ? size : base + offset;
  if ((whence === 3 || whence === 4) && offset >= size) return -6; // ENXIO
  if (pos < 0) return -EINVAL;
  f.f_pos = pos;
  return pos;
}

export interface Stat {
  readonly st_size: number;
  readonly st_blksize: number;
  readonly st_ino: number;
  readonly st_mode: number;
  readonly st_blocks: number;
}

/** vfs_fstat() */
export function* sys_fstat(ctx: Ctx, fd: number): KGen<Stat | number> {
  const f = yield* fileOf(ctx, fd);
  if (!f) return -EBADF;
  if (!f.inode) return { st_size: 0, st_blksize: PAGE_SIZE, st_ino: 0, st_mode: S_IFCHR | 0o600, st_blocks: 0 };
  const blocks = f.inode.kind === 'shmem' ? f.inode.mapping.pages.size * (PAGE_SIZE / 512) : 0;
  return {
    st_size: f.inode.i_size,
    st_blksize: PAGE_SIZE,
    st_ino: f.inode.ino,
    st_mode: S_IFREG | 0o600,
    st_blocks: blocks,
  };
}
