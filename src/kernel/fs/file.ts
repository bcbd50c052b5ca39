// struct file and the per-process fd table (include/linux/fs.h, fs/file.c).

import type { GmemFile, Kvm, KvmVcpu } from '../kvm/kvm_host.js';
import type { Inode } from '../mm/mm_types.js';
import type { Process } from '../task/task.js';
import { EBADF, EMFILE } from '../uapi/errno.js';

/** Which file_operations a file has; dispatch happens by this tag so state stays plain data. */
export type FileOps = 'kvm_chardev_ops' | 'kvm_vm_fops' | 'kvm_vcpu_fops' | 'kvm_gmem_fops' | 'shmem_file_operations';

// f_mode bits (include/linux/fs.h)
export const FMODE_READ = 0x1;
export const FMODE_WRITE = 0x2;
export const FMODE_LSEEK = 0x4;
export const FMODE_PREAD = 0x8;
export const FMODE_PWRITE = 0x10;
export const FMODE_CAN_READ = 0x20000;
export const FMODE_CAN_WRITE = 0x40000;

export interface File {
  readonly id: number;
  readonly f_op: FileOps;
  f_mode: number;
  f_flags: number;
  f_pos: number;
  readonly inode: Inode | null;
  /** file->private_data */
  readonly private_data: GmemFile | Kvm | KvmVcpu | null;
  /** f_count: fd-table entries, VMAs and in-flight users */
  f_count: number;
  /** ->release() has run */
  released: boolean;
  /** display name, like /proc/PID/fd shows */
  readonly name: string;
}

export interface FdTable {
  readonly fds: Map<number, File>;
  /** RLIMIT_NOFILE */
  max_fds: number;
  /** fds below this are taken by stdin/stdout/stderr, which the model does not represent */
  reserved: number;
}

// ---- fd table (fs/file.c)

/** get_unused_fd_flags(): the lowest free fd, or -EMFILE. */
export function get_unused_fd_flags(p: Process): number {
  for (let fd = p.files.reserved; fd < p.files.max_fds; fd++) if (!p.files.fds.has(fd)) return fd;
  return -EMFILE;
}

export function fd_install(p: Process, fd: number, f: File): void {
  p.files.fds.set(fd, f);
}

/** fdget(): the open file behind fd, or null (the caller returns -EBADF). */
export function fdget(p: Process, fd: number): File | null {
  return p.files.fds.get(fd) ?? null;
}

export function get_file(f: File): File {
  f.f_count++;
  return f;
}

/** Drops a reference; true when it was the last one and ->release() must run. */
export function fput_needs_release(f: File): boolean {
  if (--f.f_count > 0) return false;
  f.released = true;
  return true;
}

/** close_fd(): detach fd from the table; -EBADF if it was not open. */
export function close_fd(p: Process, fd: number): File | number {
  const f = p.files.fds.get(fd);
  if (!f) return -EBADF;
  p.files.fds.delete(fd);
  return f;
}
