import { describe, expect, it } from 'vitest';
import { ApiArgumentError, Session } from '../../src/index.js';

describe('Session (typed API)', () => {
  it('runs the seed story op by op and returns the same results as the scenario runner', () => {
    const s = new Session();
    const vm = s.KVM_CREATE_VM({ type: 'KVM_X86_SW_PROTECTED_VM' });
    expect(vm).toMatchObject({ ret: 4, errno: null, op: 'KVM_CREATE_VM' });
    const gmem = s.KVM_CREATE_GUEST_MEMFD({ vm: vm.ret, size: 0x400000 });
    const shared = s.mmap({
      fd: -1,
      length: 0x400000,
      prot: ['PROT_READ', 'PROT_WRITE'],
      flags: ['MAP_SHARED', 'MAP_ANONYMOUS'],
    });
    expect(
      s.KVM_SET_USER_MEMORY_REGION2({
        vm: vm.ret,
        slot: 1,
        flags: 'KVM_MEM_GUEST_MEMFD',
        guest_phys_addr: 0x100000000,
        memory_size: 0x400000,
        userspace_addr: shared.ret,
        guest_memfd: gmem.ret,
      }).ret,
    ).toBe(0);
    s.KVM_SET_MEMORY_ATTRIBUTES({
      vm: vm.ret,
      address: 0x100000000,
      size: 0x400000,
      attributes: ['KVM_MEMORY_ATTRIBUTE_PRIVATE'],
    });
    const vcpu = s.KVM_CREATE_VCPU({ vm: vm.ret });
    expect(s.KVM_RUN({ vcpu: vcpu.ret, guest: [{ write: 0x100005000, value: 0xdead, size: 2 }] }).ret).toBe(0);
    expect(s.memory_failure({ fd: gmem.ret, offset: 0x5000 })).toMatchObject({ ret: -1, errno: 'EBUSY' });
    expect(s.KVM_RUN({ vcpu: vcpu.ret, guest: [{ read: 0x100005000, size: 2 }] })).toMatchObject({
      ret: -1,
      errno: 'EHWPOISON',
      exit_reason: 'KVM_EXIT_MEMORY_FAULT',
      memory_fault: { flags: ['KVM_MEMORY_EXIT_FLAG_PRIVATE'], gpa: 0x100005000, size: 4096 },
    });
    expect(s.results.length).toBe(9);
  });

  it('names arguments that are wrong, by field', () => {
    const s = new Session();
    const bad = () =>
      // @ts-expect-error: sizee is not an argument of KVM_CREATE_GUEST_MEMFD
      s.KVM_CREATE_GUEST_MEMFD({ vm: 4, sizee: 1 });
    expect(bad).toThrow(ApiArgumentError);
    expect(bad).toThrow(/unknown argument\(s\) sizee/);
    try {
      s.fallocate({ fd: 3, mode: 'FALLOC_FL_KEEPSIZE', offset: 0, len: 4096 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiArgumentError);
      expect((e as ApiArgumentError).diagnostics[0]).toMatchObject({ code: 'GMEM2001', path: 'mode' });
    }
  });

  it('supports labels through `as`', () => {
    const s = new Session();
    s.run('KVM_CREATE_VM', {}, 'vm');
    expect(s.run('KVM_CREATE_GUEST_MEMFD', { vm: 'vm', size: 4096 }).ret).toBe(5);
  });

  it('records a trace when asked', () => {
    const s = new Session({ trace: true });
    s.KVM_CREATE_VM({});
    expect(s.ftrace()).toContain('sys_enter_ioctl');
  });
});
