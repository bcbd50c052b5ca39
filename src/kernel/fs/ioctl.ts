// ioctl(2) dispatch (fs/ioctl.c → f_op->unlocked_ioctl) to /dev/kvm, VM and vCPU handlers (virt/kvm/kvm_main.c).
import { type Ctx, type KGen, rd } from '../core/sched.js';
import { kvm_gmem_create } from '../kvm/guest_memfd.js';
import type { Kvm, KvmVcpu } from '../kvm/kvm_host.js';
import {
  kvm_dev_ioctl_create_vm,
  kvm_vm_ioctl_check_extension_generic,
  kvm_vm_ioctl_create_vcpu,
  kvm_vm_ioctl_set_mem_attributes,
  kvm_vm_ioctl_set_memory_region,
  type MemoryAttributes,
  type MemoryRegion2,
} from '../kvm/kvm_main.js';
import { EBADF, EINVAL, EIO, ENOTTY } from '../uapi/errno.js';
import { KVM_API_VERSION } from '../uapi/kvm.js';
import { type GuestRunState, kvm_vcpu_ioctl_run } from '../x86/x86.js';
import { fdget } from './file.js';

/** The argument of each modeled ioctl, as the kernel copies it in. */
export type IoctlRequest =
  | { readonly cmd: 'KVM_GET_API_VERSION' }
  | { readonly cmd: 'KVM_CREATE_VM'; readonly type: bigint }
  | { readonly cmd: 'KVM_CHECK_EXTENSION'; readonly cap: bigint }
  | { readonly cmd: 'KVM_CREATE_VCPU'; readonly id: bigint }
  | { readonly cmd: 'KVM_CREATE_GUEST_MEMFD'; readonly size: bigint; readonly flags: bigint }
  | {
      readonly cmd: 'KVM_SET_USER_MEMORY_REGION' | 'KVM_SET_USER_MEMORY_REGION2';
      readonly region: MemoryRegion2;
      /** pad2[0] as userspace passed it: copied in with the struct, never checked */
      readonly pad2: bigint;
    }
  | { readonly cmd: 'KVM_SET_MEMORY_ATTRIBUTES'; readonly attrs: MemoryAttributes }
  | { readonly cmd: 'KVM_RUN'; readonly guest: GuestRunState };

/** sys_ioctl(): look up the fd and hand the request to its file's ioctl handler. */
export function* sys_ioctl(ctx: Ctx, fd: number, req: IoctlRequest): KGen<number> {
  yield* rd(`fdtable:${ctx.task.proc.pid}`);
  const f = fdget(ctx.task.proc, fd);
  if (!f) return -EBADF;
  switch (f.f_op) {
    case 'kvm_chardev_ops':
      return yield* kvm_dev_ioctl(ctx, req);
    case 'kvm_vm_fops':
      return yield* kvm_vm_ioctl(ctx, f.private_data as Kvm, req);
    case 'kvm_vcpu_fops':
      return yield* kvm_vcpu_ioctl(ctx, f.private_data as KvmVcpu, req);
    default:
      return -ENOTTY; // guest_memfd and shmem have no unlocked_ioctl
  }
}

/** kvm_dev_ioctl(): unknown /dev/kvm ioctls fall to kvm_arch_dev_ioctl(), whose default is -EINVAL. */
function* kvm_dev_ioctl(ctx: Ctx, req: IoctlRequest): KGen<number> {
  switch (req.cmd) {
    case 'KVM_GET_API_VERSION':
      return KVM_API_VERSION;
    case 'KVM_CREATE_VM':
      return yield* kvm_dev_ioctl_create_vm(ctx, req.type);
    case 'KVM_CHECK_EXTENSION':
      return kvm_vm_ioctl_check_extension_generic(ctx.k, null, capArg(req.cap));
    default:
      return -EINVAL;
  }
}

/** KVM_CHECK_EXTENSION takes a long; caps beyond int range match nothing. */
function capArg(cap: bigint): number {
  return cap > 0x7fffffffn ? -1 : Number(cap);
}

/** kvm_vm_ioctl(): every VM ioctl first fails with EIO from another mm or on a dead VM. */
function* kvm_vm_ioctl(ctx: Ctx, kvm: Kvm, req: IoctlRequest): KGen<number> {
  if (kvm.mm !== ctx.task.proc.mm || kvm.vm_dead) return -EIO;
  switch (req.cmd) {
    case 'KVM_CREATE_VCPU':
      return yield* kvm_vm_ioctl_create_vcpu(ctx, kvm, req.id);
    case 'KVM_SET_USER_MEMORY_REGION':
      return yield* kvm_vm_ioctl_set_memory_region(ctx, kvm, req.region, true);
    case 'KVM_SET_USER_MEMORY_REGION2':
      // the struct is copied as is: neither pad1 nor pad2 is looked at (measured on 7.3.4 and 6.18.15)
      return yield* kvm_vm_ioctl_set_memory_region(ctx, kvm, req.region, false);
    case 'KVM_SET_MEMORY_ATTRIBUTES':
      return yield* kvm_vm_ioctl_set_mem_attributes(ctx, kvm, req.attrs);
    case 'KVM_CREATE_GUEST_MEMFD':
      return yield* kvm_gmem_create(ctx, kvm, req.size, req.flags);
    case 'KVM_CHECK_EXTENSION':
      return kvm_vm_ioctl_check_extension_generic(ctx.k, kvm, capArg(req.cap));
    default:
      return -ENOTTY;
  }
}

/** kvm_vcpu_ioctl(): EIO from another mm or on a dead VM; unknown vCPU ioctls get -EINVAL from the arch code. */
function* kvm_vcpu_ioctl(ctx: Ctx, vcpu: KvmVcpu, req: IoctlRequest): KGen<number> {
  if (vcpu.kvm.mm !== ctx.task.proc.mm || vcpu.kvm.vm_dead) return -EIO;
  if (req.cmd === 'KVM_RUN') return yield* kvm_vcpu_ioctl_run(ctx, vcpu, req.guest);
  return -EINVAL;
}
