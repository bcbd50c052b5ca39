// Linux errno values on x86-64 (include/uapi/asm-generic/errno-base.h, errno.h) plus the
// kernel-internal restart codes (include/linux/errno.h) that never reach userspace.
import { constGroup } from './consts.js';

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOTTY = 25;
export const EFBIG = 27;
export const ENOSPC = 28;
export const ESPIPE = 29;
export const EROFS = 30;
export const ERANGE = 34;
export const EDEADLK = 35;
export const ENOSYS = 38;
export const EOVERFLOW = 75;
export const EOPNOTSUPP = 95;
export const ETIMEDOUT = 110;
export const EHWPOISON = 133;

export const ERRNO = constGroup('errno', false, {
  EPERM,
  ENOENT,
  ESRCH,
  EINTR,
  EIO,
  ENXIO,
  E2BIG,
  EBADF,
  EAGAIN,
  ENOMEM,
  EACCES,
  EFAULT,
  EBUSY,
  EEXIST,
  ENODEV,
  ENOTDIR,
  EISDIR,
  EINVAL,
  ENFILE,
  EMFILE,
  ENOTTY,
  EFBIG,
  ENOSPC,
  ESPIPE,
  EROFS,
  ERANGE,
  EDEADLK,
  ENOSYS,
  EOVERFLOW,
  EOPNOTSUPP,
  ETIMEDOUT,
  EHWPOISON,
});

/** Symbolic name of a positive errno value, e.g. 133 -> "EHWPOISON". */
export function errnoName(e: number): string {
  return ERRNO.nameOf(e) ?? `E${e}`;
}
