// open, close, dup, memfd_create, fallocate and ftruncate (fs/open.c, fs/file.c, mm/memfd.c).

import { NotModeledError } from '../../diagnostics/errors.js';
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import { kvm_gmem_fallocate } from '../kvm/guest_memfd.js';
import { MAX_LFS_FILESIZE, shmem_fallocate, shmem_new_inode, shmem_setsize } from '../mm/shmem.js';
import { EBADF, EEXIST, EFBIG, EINVAL, ENODEV, ENOENT, ENOTDIR, EOPNOTSUPP } from '../uapi/errno.js';
import {
  __O_TMPFILE,
  FALLOC_FL_COLLAPSE_RANGE,
  FALLOC_FL_INSERT_RANGE,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_UNSHARE_RANGE,
  FALLOC_FL_WRITE_ZEROES,
  FALLOC_FL_ZERO_RANGE,
  O_ACCMODE,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_LARGEFILE,
  O_PATH,
  O_PATH_FLAGS,
  O_RDONLY,
  O_RDWR,
  VALID_OPEN_FLAGS,
} from '../uapi/fs.js';
import {
  close_fd,
  type File,
  FMODE_LSEEK,
  FMODE_PREAD,
  FMODE_PWRITE,
  FMODE_WRITE,
  fd_install,
  fdget,
  fput_needs_release,
  get_file,
  get_unused_fd_flags,
} from './file.js';
import { alloc_file, file_release } from './file_table.js';

// memfd_create() flags (include/uapi/linux/memfd.h)
const MFD_HUGETLB = 0x4;
const MFD_NOEXEC_SEAL = 0x8;
const MFD_EXEC = 0x10;

const FALLOC_FL_MODE_MASK =
  FALLOC_FL_PUNCH_HOLE |
  FALLOC_FL_COLLAPSE_RANGE |
  FALLOC_FL_ZERO_RANGE |
  FALLOC_FL_INSERT_RANGE |
  FALLOC_FL_UNSHARE_RANGE |
  FALLOC_FL_WRITE_ZEROES;

/** vfs_fallocate(): the generic checks, in order, then f_op->fallocate. */
export function* vfs_fallocate(ctx: Ctx, f: File, mode: number, offset: bigint, len: bigint): KGen<number> {
  if (offset < 0n || len <= 0n) return -EINVAL;
  if (mode & ~(FALLOC_FL_MODE_MASK | FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
  switch (mode & FALLOC_FL_MODE_MASK) {
    case 0:
    case FALLOC_FL_UNSHARE_RANGE:
    case FALLOC_FL_ZERO_RANGE:
      break;
    case FALLOC_FL_PUNCH_HOLE:
      if (!(mode & FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
      break;
    case FALLOC_FL_COLLAPSE_RANGE:
    case FALLOC_FL_INSERT_RANGE:
    case FALLOC_FL_WRITE_ZEROES:
      if (mode & FALLOC_FL_KEEP_SIZE) return -EOPNOTSUPP;
      break;
    default:
      return -EOPNOTSUPP;
  }
  if (!(f.f_mode & FMODE_WRITE)) return -EBADF;
  if (!f.inode) return -ENODEV; // !S_ISREG && !S_ISBLK
  const sum = offset + len;
  if (sum > BigInt(MAX_LFS_FILESIZE)) return -EFBIG; // check_add_overflow() / s_maxbytes
  const off = Number(offset);
  const n = Number(len);
  if (f.f_op === 'kvm_gmem_fops') return yield* kvm_gmem_fallocate(ctx, f, mode, off, n);
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP; // shmem_fallocate()
  return yield* shmem_fallocate(
    ctx,
    f,
    (mode & FALLOC_FL_PUNCH_HOLE) !== 0,
    (mode & FALLOC_FL_KEEP_SIZE) !== 0,
    off,
    n,
  );
}

export function* sys_fallocate(ctx: Ctx, fd: number, mode: number, offset: bigint, len: bigint): KGen<number> {
  yield* rd(`fdtable:${ctx.task.proc.pid}`);
  const f = fdget(ctx.task.proc, fd);
  if (!f) return -EBADF;
  return yield* vfs_fallocate(ctx, f, mode, offset, len);
}

/** ksys_ftruncate() → do_ftruncate() → notify_change() → i_op->setattr. */
export function* sys_ftruncate(ctx: Ctx, fd: number, length: bigint): KGen<number> {
  if (length < 0n) return -EINVAL;
  yield* rd(`fdtable:${ctx.task.proc.pid}`);
  const f = fdget(ctx.task.proc, fd);
  if (!f) return -EBADF;
  if (!f.inode || !(f.f_mode & FMODE_WRITE)) return -EINVAL;
  if (length > 0x7fffffffn && !(f.f_flags & O_LARGEFILE)) return -EINVAL;
  if (f.f_op === 'kvm_gmem_fops') return -EINVAL; // kvm_gmem_setattr()
  return yield* shmem_setsize(ctx, f.inode, Number(length));
}

/**
 * open(2): do_sys_open() → build_open_how() and build_open_flags() (fs/open.c), then the path walk (fs/namei.c).
 * The model has one file to open, the /dev/kvm device node (misc device, kvm_chardev_ops).
 */
export function* sys_open(ctx: Ctx, path: string, flags_in: number): KGen<number> {
  const proc = ctx.task.proc;
  let flags = flags_in & VALID_OPEN_FLAGS; // build_open_how(): open(2) drops unknown bits
  if (flags & O_PATH) flags &= O_PATH_FLAGS;
  // build_open_flags()
  if ((flags & (O_DIRECTORY | O_CREAT)) === (O_DIRECTORY | O_CREAT)) return -EINVAL;
  if (flags & __O_TMPFILE) {
    if (!(flags & O_DIRECTORY)) return -EINVAL;
    if ((flags & O_ACCMODE) === O_RDONLY) return -EINVAL; // needs MAY_WRITE
  }
  if (path !== '/dev/kvm') return -ENOENT; // the op's schema allows no other path
  // do_tmpfile() and do_open(): /dev/kvm exists and is not a directory
  if (flags & __O_TMPFILE) return -ENOTDIR;
  if (flags & O_CREAT && flags & O_EXCL) return -EEXIST;
  if (flags & O_DIRECTORY) return -ENOTDIR;
  if (flags & O_PATH) throw new NotModeledError('O_PATH file descriptors are not modeled');
  yield* wr(`fdtable:${proc.pid}`);
  const fd = get_unused_fd_flags(proc);
  if (fd < 0) return fd;
  const file = alloc_file(ctx.k, 'kvm_chardev_ops', flags, null, null, '/dev/kvm');
  file.f_mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE; // do_dentry_open() gives every opened file all three
  fd_install(proc, fd, file);
  return fd;
}

/** close(2): detach the fd; the last reference runs ->release() (deferred to task work in the kernel). */
export function* sys_close(ctx: Ctx, fd: number): KGen<number> {
  yield* wr(`fdtable:${ctx.task.proc.pid}`);
  const f = close_fd(ctx.task.proc, fd);
  if (typeof f === 'number') return f;
  yield* wr(`file:${f.id}`);
  if (fput_needs_release(f)) yield* file_release(ctx, f);
  return 0;
}

/** dup(2) */
export function* sys_dup(ctx: Ctx, oldfd: number): KGen<number> {
  const proc = ctx.task.proc;
  yield* wr(`fdtable:${proc.pid}`);
  const f = fdget(proc, oldfd);
  if (!f) return -EBADF;
  const fd = get_unused_fd_flags(proc);
  if (fd < 0) return fd;
  yield* wr(`file:${f.id}`);
  fd_install(proc, fd, get_file(f));
  return fd;
}

/** memfd_create(2) (mm/memfd.c): a shmem file of size 0, seekable and with pread/pwrite (memfd_alloc_file()). */
export function* sys_memfd_create(ctx: Ctx, name: string, flags: number): KGen<number> {
  if (flags & MFD_HUGETLB) throw new NotModeledError('memfd_create(MFD_HUGETLB): hugetlbfs is not modeled');
  if (flags & ~0x1f) return -EINVAL;
  if (flags & MFD_EXEC && flags & MFD_NOEXEC_SEAL) return -EINVAL; // sanitize_flags()
  if (name.length > 249) return -EINVAL;
  const proc = ctx.task.proc;
  yield* wr(`fdtable:${proc.pid}`);
  const fd = get_unused_fd_flags(proc);
  if (fd < 0) return fd;
  const inode = shmem_new_inode(ctx.k, 0);
  const file = alloc_file(ctx.k, 'shmem_file_operations', O_RDWR, inode, null, `/memfd:${name} (deleted)`);
  file.f_mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
  file.f_flags |= O_LARGEFILE;
  fd_install(proc, fd, file);
  return fd;
}
