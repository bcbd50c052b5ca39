// What the oracle can run of each scenario on a given kernel, decided before booting: a scenario pinning options
// the kernel does not have (another version, a pending patch, SW_PROTECTED VMs) is model-only; otherwise the
// oracle runs its steps up to the first one with no real-kernel equivalent. The runner stops at runtime too
// (e.g. a guest_memfd without mmap whose pfn cannot be found), and says why.

import { MF_ACTION_REQUIRED, MF_SW_SIMULATED } from '../kernel/mm/memory-failure.js';
import type { KernelOptions } from '../kernel/options.js';
import { KVM_X86_SW_PROTECTED_VM } from '../kernel/uapi/kvm.js';
import { type CompiledScenario, type CompiledStep, compileScenario } from '../scenario/compile.js';
import type { Scenario, StepSpec } from '../scenario/load.js';
import type { KernelProfile } from './kernels.js';

export interface StopPoint {
  readonly step: number;
  readonly reason: string;
}

export interface OraclePlan {
  readonly scenario: Scenario;
  readonly compiled: CompiledScenario;
  /** set when nothing of the scenario can run on this kernel */
  readonly modelOnly?: string;
  /** the oracle stops before this step; it and the rest run on the model only */
  readonly stop?: StopPoint;
  /** the model options that describe the kernel: the model side of a comparison runs with them */
  readonly modelOptions: KernelOptions;
  /** memory_failure steps the oracle injects through corrupt-pfn, which adds MF_SW_SIMULATED */
  readonly swSimulatedSteps: readonly number[];
  /** every memory_failure step: the oracle reaches memory_failure() through an injection interface */
  readonly injectedSteps: readonly number[];
}

const OPTION_KEYS = ['mm', 'error_handler', 'kernel', 'sw_protected_vm'] as const;

/** A scenario option that describes another kernel than this one. */
function optionConflict(s: Scenario, profile: KernelProfile): string | undefined {
  for (const key of OPTION_KEYS) {
    const want = s.options[key];
    if (want !== undefined && want !== profile.model[key]) {
      return `the scenario pins ${key}: ${String(want)}; Debian ${profile.id} is ${key}: ${String(profile.model[key])}`;
    }
  }
  return undefined;
}

const num = (v: CompiledStep['args'][string] | undefined): bigint | undefined =>
  v && 'n' in v ? BigInt(v.n) : undefined;

/** Why a step has no real-kernel equivalent on this kernel, if it has none (known before the run). */
function staticModelOnly(st: CompiledStep, s: Scenario, profile: KernelProfile): string | undefined {
  switch (st.op) {
    case 'KVM_CREATE_VM':
      if (
        num(st.args.type) === BigInt(KVM_X86_SW_PROTECTED_VM) &&
        s.options.sw_protected_vm !== false &&
        !profile.model.sw_protected_vm
      )
        return `KVM_X86_SW_PROTECTED_VM needs CONFIG_KVM_SW_PROTECTED_VM, which Debian ${profile.id} is built without`;
      return undefined;
    case 'corrupt_frame':
      return 'corrupt_frame: no real interface corrupts a frame without reporting it';
    case 'memory_failure': {
      const flags = num(st.args.flags) ?? 0n;
      if (flags & ~BigInt(MF_ACTION_REQUIRED | MF_SW_SIMULATED))
        return `memory_failure flags 0x${flags.toString(16)}: no real injection interface passes them`;
      if (flags & BigInt(MF_ACTION_REQUIRED) && st.args.pfn)
        return 'memory_failure(MF_ACTION_REQUIRED) at a bare pfn: MADV_HWPOISON needs a mapping';
      return undefined;
    }
    case 'KVM_RUN': {
      const i = (st.guest ?? []).findIndex((a) => a.private !== undefined);
      return i < 0
        ? undefined
        : `guest access ${i} forces private: ${String(st.guest?.[i].private)}; a real guest's accesses follow the memory attributes`;
    }
    default:
      return undefined;
  }
}

function swSimulated(compiled: CompiledScenario): number[] {
  return compiled.steps
    .filter((st) => st.op === 'memory_failure' && !((num(st.args.flags) ?? 0n) & BigInt(MF_ACTION_REQUIRED)))
    .map((st) => st.index);
}

export function planScenario(s: Scenario, profile: KernelProfile): OraclePlan {
  const compiled = compileScenario(s);
  const base = {
    scenario: s,
    compiled,
    modelOptions: profile.model,
    swSimulatedSteps: swSimulated(compiled),
    injectedSteps: compiled.steps.filter((st) => st.op === 'memory_failure').map((st) => st.index),
  };
  if (s.threads.size > 0)
    return { ...base, modelOnly: 'the scenario has threads: run it with `gmemsim oracle --race`' };
  const conflict = optionConflict(s, profile);
  if (conflict) return { ...base, modelOnly: conflict };
  for (const st of compiled.steps) {
    const reason = staticModelOnly(st, s, profile);
    if (reason) return st.index === 0 ? { ...base, modelOnly: reason } : { ...base, stop: { step: st.index, reason } };
  }
  return base;
}

/** The runner's input for the plans the oracle can run. */
export function runnerInput(plans: readonly OraclePlan[]): string {
  const scenarios = plans.flatMap((p, id) =>
    p.modelOnly ? [] : [{ id, file: p.scenario.file, ...(p.stop ? { stop: p.stop } : {}), scenario: p.compiled }],
  );
  return JSON.stringify({ format: 'gmemsim-oracle-input/1', scenarios });
}

/**
 * The scenario the model runs for a comparison: the oracle injects memory_failure() through debugfs corrupt-pfn,
 * which adds MF_SW_SIMULATED, so the model is given the same flags (this matters: a report without it disables
 * unpoison for good).
 */
export function modelScenario(plan: OraclePlan): Scenario {
  if (plan.swSimulatedSteps.length === 0) return plan.scenario;
  const steps: StepSpec[] = plan.scenario.steps.map((st) => {
    if (!plan.swSimulatedSteps.includes(st.index)) return st;
    const compiled = plan.compiled.steps[st.index].args.flags;
    const flags = (num(compiled) ?? 0n) | BigInt(MF_SW_SIMULATED);
    return { ...st, raw: { ...st.raw, flags: `0x${flags.toString(16)}` } };
  });
  return { ...plan.scenario, steps };
}
