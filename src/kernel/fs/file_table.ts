// Allocating struct file and running ->release() when the last reference goes (fs/file_table.c).
import type { Ctx, KGen } from '../core/sched.js';
import { kvm_gmem_release } from '../kvm/guest_memfd.js';
import type { GmemFile, Kvm, KvmVcpu } from '../kvm/kvm_host.js';
import { kvm_put_kvm } from '../kvm/kvm_main.js';
import type { Kernel } from '../machine.js';
import { iput } from '../mm/inode.js';
import type { Inode } from '../mm/mm_types.js';
import { O_ACCMODE, O_RDONLY, O_RDWR, O_WRONLY } from '../uapi/fs.js';
import {
  type File,
  type FileOps,
  FMODE_CAN_READ,
  FMODE_CAN_WRITE,
  FMODE_LSEEK,
  FMODE_READ,
  FMODE_WRITE,
} from './file.js';

/**
 * alloc_file_pseudo()/anon_inode_getfile(): f_mode follows the open flags; file_init_path() adds FMODE_LSEEK where
 * the file_operations have ->llseek (all but guest_memfd's: shmem_file_llseek, KVM's noop_llseek) and
 * FMODE_CAN_READ/WRITE where they have read_iter/write_iter (only shmem's). Pseudo files get no FMODE_PREAD/PWRITE
 * (memfd_create() adds them).
 */
export function alloc_file(
  k: Kernel,
  f_op: FileOps,
  flags: number,
  inode: Inode | null,
  private_data: GmemFile | Kvm | KvmVcpu | null,
  name: string,
): File {
  const acc = flags & O_ACCMODE;
  let f_mode =
    (acc === O_RDONLY || acc === O_RDWR ? FMODE_READ : 0) | (acc === O_WRONLY || acc === O_RDWR ? FMODE_WRITE : 0);
  if (f_op !== 'kvm_gmem_fops') f_mode |= FMODE_LSEEK;
  if (f_op === 'shmem_file_operations') {
    if (f_mode & FMODE_READ) f_mode |= FMODE_CAN_READ;
    if (f_mode & FMODE_WRITE) f_mode |= FMODE_CAN_WRITE;
  }
  return {
    id: k.ids.file++,
    f_op,
    f_mode,
    f_flags: flags,
    f_pos: 0,
    inode,
    private_data,
    f_count: 1,
    released: false,
    name,
  };
}

/** __fput(): ->release() then the inode reference. */
export function* file_release(ctx: Ctx, f: File): KGen<void> {
  switch (f.f_op) {
    case 'kvm_gmem_fops':
      yield* kvm_gmem_release(ctx, f.inode!, f);
      break;
    case 'kvm_vm_fops':
      yield* kvm_put_kvm(ctx, f.private_data as Kvm);
      break;
    case 'kvm_vcpu_fops':
      yield* kvm_put_kvm(ctx, (f.private_data as KvmVcpu).kvm);
      break;
    default:
      break;
  }
  if (f.inode) yield* iput(ctx, f.inode);
}
