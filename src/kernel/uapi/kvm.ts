// KVM uAPI constants (include/uapi/linux/kvm.h, arch/x86/include/uapi/asm/kvm.h).
import { constGroup } from './consts.js';

const KVMIO = 0xae;
const IOC_WRITE = 1;
const IOC_READ = 2;
function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;
}

/** ioctl request numbers, as userspace passes them (for traces and the oracle). */
export const KVM_IOCTL = constGroup('kvm ioctl', false, {
  KVM_GET_API_VERSION: ioc(0, 0x00, 0),
  KVM_CREATE_VM: ioc(0, 0x01, 0),
  KVM_CHECK_EXTENSION: ioc(0, 0x03, 0),
  KVM_GET_VCPU_MMAP_SIZE: ioc(0, 0x04, 0),
  KVM_CREATE_VCPU: ioc(0, 0x41, 0),
  KVM_SET_USER_MEMORY_REGION: ioc(IOC_WRITE, 0x46, 32),
  KVM_SET_USER_MEMORY_REGION2: ioc(IOC_WRITE, 0x49, 160),
  KVM_RUN: ioc(0, 0x80, 0),
  KVM_SET_MEMORY_ATTRIBUTES: ioc(IOC_WRITE, 0xd2, 32),
  KVM_CREATE_GUEST_MEMFD: ioc(IOC_READ | IOC_WRITE, 0xd4, 64),
  KVM_PRE_FAULT_MEMORY: ioc(IOC_READ | IOC_WRITE, 0xd5, 64),
});

export const KVM_API_VERSION = 12;

export const KVM_X86_DEFAULT_VM = 0;
export const KVM_X86_SW_PROTECTED_VM = 1;
export const KVM_X86_SEV_VM = 2;
export const KVM_X86_SEV_ES_VM = 3;
export const KVM_X86_SNP_VM = 4;
export const KVM_X86_TDX_VM = 5;
export const VM_TYPE = constGroup('VM type', false, {
  KVM_X86_DEFAULT_VM,
  KVM_X86_SW_PROTECTED_VM,
  KVM_X86_SEV_VM,
  KVM_X86_SEV_ES_VM,
  KVM_X86_SNP_VM,
  KVM_X86_TDX_VM,
});

export const KVM_CAP_NR_VCPUS = 9;
export const KVM_CAP_NR_MEMSLOTS = 10;
export const KVM_CAP_USER_MEMORY = 3;
export const KVM_CAP_MAX_VCPUS = 66;
export const KVM_CAP_MULTI_ADDRESS_SPACE = 118;
export const KVM_CAP_MAX_VCPU_ID = 128;
export const KVM_CAP_USER_MEMORY2 = 231;
export const KVM_CAP_MEMORY_FAULT_INFO = 232;
export const KVM_CAP_MEMORY_ATTRIBUTES = 233;
export const KVM_CAP_GUEST_MEMFD = 234;
export const KVM_CAP_VM_TYPES = 235;
export const KVM_CAP_PRE_FAULT_MEMORY = 236;
export const KVM_CAP_GUEST_MEMFD_FLAGS = 244;
export const KVM_CAP = constGroup('KVM capability', false, {
  KVM_CAP_USER_MEMORY,
  KVM_CAP_NR_VCPUS,
  KVM_CAP_NR_MEMSLOTS,
  KVM_CAP_MAX_VCPUS,
  KVM_CAP_MULTI_ADDRESS_SPACE,
  KVM_CAP_MAX_VCPU_ID,
  KVM_CAP_USER_MEMORY2,
  KVM_CAP_MEMORY_FAULT_INFO,
  KVM_CAP_MEMORY_ATTRIBUTES,
  KVM_CAP_GUEST_MEMFD,
  KVM_CAP_VM_TYPES,
  KVM_CAP_PRE_FAULT_MEMORY,
  KVM_CAP_GUEST_MEMFD_FLAGS,
});

export const KVM_MEM_LOG_DIRTY_PAGES = 1 << 0;
export const KVM_MEM_READONLY = 1 << 1;
export const KVM_MEM_GUEST_MEMFD = 1 << 2;
export const KVM_MEM_FLAGS = constGroup('memslot flags', true, {
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  KVM_MEM_GUEST_MEMFD,
});

export const GUEST_MEMFD_FLAG_MMAP = 1 << 0;
export const GUEST_MEMFD_FLAG_INIT_SHARED = 1 << 1;
export const GUEST_MEMFD_FLAGS = constGroup('guest_memfd flags', true, {
  GUEST_MEMFD_FLAG_MMAP,
  GUEST_MEMFD_FLAG_INIT_SHARED,
});

export const KVM_MEMORY_ATTRIBUTE_PRIVATE = 1 << 3;
export const MEMORY_ATTRIBUTES = constGroup('memory attributes', true, { KVM_MEMORY_ATTRIBUTE_PRIVATE });

export const KVM_MEMORY_EXIT_FLAG_PRIVATE = 1 << 3;
export const MEMORY_EXIT_FLAGS = constGroup('memory_fault flags', true, { KVM_MEMORY_EXIT_FLAG_PRIVATE });

export const KVM_EXIT_UNKNOWN = 0;
export const KVM_EXIT_IO = 2;
export const KVM_EXIT_HLT = 5;
export const KVM_EXIT_MMIO = 6;
export const KVM_EXIT_SHUTDOWN = 8;
export const KVM_EXIT_FAIL_ENTRY = 9;
export const KVM_EXIT_INTR = 10;
export const KVM_EXIT_INTERNAL_ERROR = 17;
export const KVM_EXIT_MEMORY_FAULT = 39;
export const KVM_EXIT = constGroup('exit reason', false, {
  KVM_EXIT_UNKNOWN,
  KVM_EXIT_EXCEPTION: 1,
  KVM_EXIT_IO,
  KVM_EXIT_HYPERCALL: 3,
  KVM_EXIT_DEBUG: 4,
  KVM_EXIT_HLT,
  KVM_EXIT_MMIO,
  KVM_EXIT_IRQ_WINDOW_OPEN: 7,
  KVM_EXIT_SHUTDOWN,
  KVM_EXIT_FAIL_ENTRY,
  KVM_EXIT_INTR,
  KVM_EXIT_SET_TPR: 11,
  KVM_EXIT_TPR_ACCESS: 12,
  KVM_EXIT_NMI: 16,
  KVM_EXIT_INTERNAL_ERROR,
  KVM_EXIT_SYSTEM_EVENT: 24,
  KVM_EXIT_MEMORY_FAULT,
});

/** x86: KVM_USER_MEM_SLOTS = KVM_MEM_SLOTS_NUM - KVM_INTERNAL_MEM_SLOTS (arch/x86/include/asm/kvm_host.h) */
export const KVM_USER_MEM_SLOTS = 32764;
export const KVM_ADDRESS_SPACE_NUM = 2;
export const KVM_MEM_MAX_NR_PAGES = 2 ** 31 - 1;
export const KVM_MAX_VCPUS = 4096;
export const KVM_MAX_VCPU_IDS = 4096;
