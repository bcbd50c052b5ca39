// The command line as users run it: exit codes, --json lines, diagnostics with file:line:col.
import { describe, expect, it } from 'vitest';
import { gmemsim } from './helpers.js';

describe('gmemsim run', () => {
  it('runs the seed example and prints one JSON object per step', () => {
    const r = gmemsim('run', 'test/uapi/seed-story.yaml', '--json');
    expect(r.status).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBe(12);
    expect(lines[8]).toMatchObject({
      step: 8,
      op: 'KVM_RUN',
      ret: -1,
      errno: 'EHWPOISON',
      exit_reason: 'KVM_EXIT_MEMORY_FAULT',
      memory_fault: { flags: ['KVM_MEMORY_EXIT_FLAG_PRIVATE'], gpa: 0x100005000, size: 4096 },
    });
    expect(lines[11]).toMatchObject({ op: 'KVM_RUN', ret: 0, values: [0] });
  });

  it('exits 1 and lists every failed expectation', () => {
    const r = gmemsim('run', 'test/fixtures/wrong-expectations.yaml');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('expectation(s) failed');
    const failed = r.stdout.split('\n').filter((l) => l.includes('wrong-expectations.yaml:'));
    expect(failed.length).toBe(5);
    expect(r.stdout).toContain('wrong-expectations.yaml:4:5: step 0 (KVM_CREATE_VM): ret: expected 5, got 4');
  });

  it('exits 2 with file:line:col for a malformed scenario', () => {
    const r = gmemsim('run', 'test/fixtures/malformed.yaml');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'malformed.yaml:4:42: error GMEM1007: unknown argument "sizee" for KVM_CREATE_GUEST_MEMFD',
    );
    expect(r.stderr).toContain('did you mean "size"?');
    expect(r.stderr).toMatch(/malformed\.yaml:5:\d+: error GMEM1010: fallocate\.fd: label "gmem" is not defined/);
    expect(r.stderr).toMatch(
      /malformed\.yaml:5:\d+: error GMEM1008: fallocate\.mode: unknown fallocate mode name "FALLOC_FL_KEEPSIZE"/,
    );
    expect(r.stderr).toMatch(/malformed\.yaml:6:\d+: error GMEM1006: unknown op "KVM_RUN_VCPU"/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('exits 2 for a missing file, without a stack trace', () => {
    const r = gmemsim('run', 'no/such/file.yaml');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('GMEM5001');
    expect(r.stderr).not.toContain('    at ');
  });

  it('prints an ftrace-style trace with kernel tracepoints and the gmemsim system apart', () => {
    const r = gmemsim('run', 'test/uapi/seed-story.yaml', '--trace');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('# tracer: nop');
    expect(r.stdout).toMatch(
      /vmm-1000 +\[000\] \.{5} +\d+\.\d{6}: kvm_page_fault: vcpu 0 rip 0x\w+ address 0x0000000100005000 error_code 0x/,
    );
    expect(r.stdout).toContain('memory_failure_event: pfn 0x');
    expect(r.stdout).toContain('kvm_userspace_exit: reason error (133)');
    expect(r.stdout).toContain('gmem_invalidate_begin: ino');
  });

  it('applies --mm over the scenario option', () => {
    const r = gmemsim('run', 'test/uapi/seed-story.yaml', '--json', '--mm', 'mf-delayed-fix');
    expect(r.status).toBe(0);
    const mf = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((x) => x.op === 'memory_failure');
    expect(mf).toMatchObject({ ret: 0, errno: null });
  });

  it('rejects an unknown option value', () => {
    const r = gmemsim('run', 'test/uapi/seed-story.yaml', '--mm', 'bogus');
    expect(r.status).toBe(2);
  });
});
