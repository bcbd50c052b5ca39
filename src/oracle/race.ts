// Race mode: a scenario with `threads:` runs many times on the real kernel, its threads as pthreads started
// together after `steps`, then `after`. Each run ends in an outcome (what every thread saw); the kernel's outcomes
// are compared with the set the model's explorer finds possible. A kernel outcome the model calls impossible is a
// difference; model outcomes the kernel did not show in N runs are listed, since races are sampled, not forced.
import { explore } from '../engine/explore.js';
import { prepareProgram } from '../engine/program.js';
import type { StepResult } from '../ops/result.js';
import { type CompiledStep, compileScenario } from '../scenario/compile.js';
import type { Scenario, StepSpec } from '../scenario/load.js';
import type { KernelProfile } from './kernels.js';
import { type NormalResult, normaliseResult, Symbols } from './normalise.js';
import { planScenario } from './plan.js';
import type { OracleScenarioRun, RaceRun } from './protocol.js';

export interface RacePlan {
  readonly scenario: Scenario;
  readonly steps: readonly CompiledStep[];
  readonly threads: readonly { readonly name: string; readonly steps: readonly CompiledStep[] }[];
  readonly after: readonly CompiledStep[];
  /** why the race cannot run on this kernel */
  readonly modelOnly?: string;
  readonly runs: number;
}

/** Thread and `after` steps compiled with the labels defined before them, as compileScenario does for `steps`. */
function compileAfter(s: Scenario, before: readonly StepSpec[], list: readonly StepSpec[]): CompiledStep[] {
  return compileScenario({ ...s, steps: [...before, ...list] }).steps.slice(before.length);
}

export function planRace(s: Scenario, profile: KernelProfile, runs: number): RacePlan {
  const threads = [...s.threads].map(([name, list]) => ({ name, steps: compileAfter(s, s.steps, list) }));
  const all = [...s.steps, ...[...s.threads.values()].flat()];
  const after = compileAfter(s, all, s.after);
  // every list must run as written: a race cut short is not the race the model explores
  const sequential = { ...s, steps: [...s.steps, ...[...s.threads.values()].flat(), ...s.after], threads: new Map() };
  const p = planScenario(sequential, profile);
  const modelOnly =
    p.modelOnly ?? (p.stop ? `step ${p.stop.step} of steps, threads and after in order: ${p.stop.reason}` : undefined);
  return { scenario: s, steps: compileScenario(s).steps, threads, after, runs, ...(modelOnly ? { modelOnly } : {}) };
}

export function raceInput(plans: readonly RacePlan[]): string {
  const scenarios = plans.flatMap((p, id) =>
    p.modelOnly
      ? []
      : [
          {
            id,
            file: p.scenario.file,
            race: { runs: p.runs },
            scenario: {
              format: 'gmemsim-compiled/1',
              name: p.scenario.name,
              options: p.scenario.options,
              steps: p.steps,
            },
            threads: p.threads,
            after: p.after,
          },
        ],
  );
  return JSON.stringify({ format: 'gmemsim-oracle-input/1', scenarios });
}

/** The explorer's per-step summary (src/engine/explore.ts), over normalised results. */
function summarize(r: NormalResult): string {
  let s = `${r.op} ret=${String(r.ret)}`;
  if (r.errno) s += ` ${String(r.errno)}`;
  if (r.exit_reason && r.exit_reason !== 'KVM_EXIT_HLT') s += ` ${String(r.exit_reason)}`;
  const values = r.values as StepResult['values'];
  if (values?.length)
    s += ` values=[${values.map((v) => (typeof v === 'number' ? `0x${v.toString(16)}` : v)).join(',')}]`;
  const sig = r.signal as { signo: string; code: string } | undefined;
  if (sig) s += ` ${sig.signo}/${sig.code}`;
  if (r.panic) s += ' PANIC';
  return s;
}

export type Outcome = Readonly<Record<string, string[]>>;

/** What one run's threads and `after` saw, normalised like every comparison. */
export function raceOutcome(p: RacePlan, run: RaceRun): Outcome {
  const sym = new Symbols();
  const main = run.results.filter((r) => r.thread === undefined);
  for (const r of main) normaliseResult(p.steps[r.step], r, sym);
  const out: Record<string, string[]> = {};
  if (run.killed) out.status = [run.killed.status];
  if (run.modelOnly) out.status = [`model-only: ${run.modelOnly.reason}`];
  for (const t of p.threads) {
    out[t.name] = run.results
      .filter((r) => r.thread === t.name)
      .map((r) => summarize(normaliseResult(t.steps[r.step], r, sym)));
  }
  const after = run.results.filter((r) => r.thread === 'after');
  if (after.length) out.after = after.map((r) => summarize(normaliseResult(p.after[r.step], r, sym)));
  return out;
}

const key = (o: Outcome) =>
  JSON.stringify(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );

export interface RaceComparison {
  readonly file: string;
  readonly modelOnly?: string;
  readonly runs: number;
  /** distinct kernel outcomes, how often each happened, and whether the model allows it */
  readonly kernel: readonly { readonly outcome: Outcome; readonly count: number; readonly predicted: boolean }[];
  /** the model's outcomes the kernel did not show */
  readonly unseen: readonly Outcome[];
  /** the explorer covered the whole space (otherwise "not predicted" is weaker) */
  readonly modelComplete: boolean;
}

export function compareRace(p: RacePlan, runs: OracleScenarioRun | undefined, profile: KernelProfile): RaceComparison {
  if (p.modelOnly || !runs)
    return {
      file: p.scenario.file,
      modelOnly: p.modelOnly ?? 'no runs',
      runs: 0,
      kernel: [],
      unseen: [],
      modelComplete: false,
    };
  const m = explore(prepareProgram(p.scenario, profile.model), { maxSeconds: 60 });
  const modelKeys = new Map(m.outcomes.map((o) => [key(o.threads), o.threads] as const));
  const seen = new Map<string, { outcome: Outcome; count: number }>();
  for (const r of runs.races) {
    const o = raceOutcome(p, r);
    const e = seen.get(key(o)) ?? { outcome: o, count: 0 };
    e.count++;
    seen.set(key(o), e);
  }
  return {
    file: p.scenario.file,
    runs: runs.races.length,
    kernel: [...seen.entries()].map(([k, e]) => ({ ...e, predicted: modelKeys.has(k) })),
    unseen: [...modelKeys.entries()].filter(([k]) => !seen.has(k)).map(([, o]) => o),
    modelComplete: m.complete,
  };
}
