import { describe, expect, it } from 'vitest';
import { kernelProfile } from '../../src/oracle/kernels.js';
import { modelScenario, planScenario, runnerInput } from '../../src/oracle/plan.js';
import { scenario } from './helpers.js';

const debian = kernelProfile('7.3.4')!;

describe('oracle plans', () => {
  it('runs a default-VM scenario in full, with the model set up as the Debian kernel', () => {
    const p = planScenario(
      scenario('steps: [{op: KVM_CREATE_VM, as: vm}, {op: KVM_CREATE_GUEST_MEMFD, vm: vm, size: 0x1000}]'),
      debian,
    );
    expect(p.modelOnly).toBeUndefined();
    expect(p.stop).toBeUndefined();
    expect(p.modelOptions).toEqual({
      mm: 'mainline',
      error_handler: 'mainline',
      kernel: '7.3',
      sw_protected_vm: false,
    });
  });

  it('stops before a SW_PROTECTED VM, which Debian cannot create', () => {
    const p = planScenario(
      scenario('steps: [{op: KVM_CREATE_VM}, {op: KVM_CREATE_VM, type: KVM_X86_SW_PROTECTED_VM}, {op: KVM_CREATE_VM}]'),
      debian,
    );
    expect(p.stop?.step).toBe(1);
    expect(p.stop?.reason).toMatch(/CONFIG_KVM_SW_PROTECTED_VM/);
  });

  it('compares a SW_PROTECTED create when the scenario itself models a kernel without it', () => {
    const p = planScenario(
      scenario('options: {sw_protected_vm: false}\nsteps: [{op: KVM_CREATE_VM, type: KVM_X86_SW_PROTECTED_VM}]'),
      debian,
    );
    expect(p.modelOnly ?? p.stop).toBeUndefined();
  });

  it('makes a scenario that pins another kernel model-only as a whole', () => {
    expect(planScenario(scenario("options: {kernel: '6.18'}\nsteps: [{op: KVM_CREATE_VM}]"), debian).modelOnly).toMatch(
      /kernel: 6.18/,
    );
    expect(
      planScenario(scenario('options: {mm: mf-delayed-fix}\nsteps: [{op: KVM_CREATE_VM}]'), debian).modelOnly,
    ).toMatch(/mf-delayed-fix/);
  });

  it('stops at steps no real interface can perform', () => {
    const frame = planScenario(scenario('steps: [{op: KVM_CREATE_VM}, {op: corrupt_frame, pfn: 5}]'), debian);
    expect(frame.stop).toEqual({ step: 1, reason: expect.stringMatching(/corrupt_frame/) });
    const priv = planScenario(
      scenario(
        'steps: [{op: KVM_CREATE_VM}, {op: KVM_RUN, vcpu: 5, guest: [{read: 0x1000}, {read: 0x2000, private: true}]}]',
      ),
      debian,
    );
    expect(priv.stop?.reason).toMatch(/guest access 1 forces private/);
    const mustKill = planScenario(
      scenario('steps: [{op: KVM_CREATE_VM}, {op: memory_failure, pfn: 5, flags: MF_MUST_KILL}]'),
      debian,
    );
    expect(mustKill.stop?.reason).toMatch(/no real injection interface/);
  });

  it('leaves threaded scenarios to race mode', () => {
    const p = planScenario(
      scenario('steps: [{op: KVM_CREATE_VM, as: vm}]\nthreads: {a: [{op: close, fd: vm}]}'),
      debian,
    );
    expect(p.modelOnly).toMatch(/--race/);
  });

  it('sends only what the oracle can run, with its stop point', () => {
    const plans = [
      planScenario(scenario('steps: [{op: KVM_CREATE_VM}]', 'a.yaml'), debian),
      planScenario(scenario('steps: [{op: KVM_CREATE_VM, type: KVM_X86_SW_PROTECTED_VM}]', 'b.yaml'), debian),
      planScenario(scenario('steps: [{op: KVM_CREATE_VM}, {op: corrupt_frame, pfn: 1}]', 'c.yaml'), debian),
    ];
    const input = JSON.parse(runnerInput(plans));
    expect(input.format).toBe('gmemsim-oracle-input/1');
    expect(input.scenarios.map((s: { id: number; file: string }) => [s.id, s.file])).toEqual([
      [0, 'a.yaml'],
      [2, 'c.yaml'],
    ]);
    expect(input.scenarios[1].stop.step).toBe(1);
    expect(input.scenarios[0].scenario.format).toBe('gmemsim-compiled/1');
  });

  it('gives the model the MF_SW_SIMULATED flag the corrupt-pfn injection adds', () => {
    const p = planScenario(scenario('steps: [{op: memory_failure, pfn: 0x100000, flags: 0}]'), debian);
    expect(p.swSimulatedSteps).toEqual([0]);
    expect(modelScenario(p).steps[0].raw.flags).toBe('0x20');
    const ar = planScenario(
      scenario('steps: [{op: memory_failure, fd: 3, offset: 0, flags: MF_ACTION_REQUIRED}]'),
      debian,
    );
    expect(ar.swSimulatedSteps).toEqual([]);
    expect(ar.injectedSteps).toEqual([0]);
  });
});
