// Field-by-field comparison of the model and the kernel on the steps both ran, after normalising both sides the
// same way. Steps the oracle could not run are listed as model-only with the reason, never compared or hidden.
import type { StepResult } from '../ops/result.js';
import type { RunOutcome } from '../scenario/run.js';
import { type KnownDifference, projectPath } from './known.js';
import { type NormalResult, normaliseRun } from './normalise.js';
import type { OraclePlan } from './plan.js';
import type { OracleScenarioRun } from './protocol.js';

export interface FieldDiff {
  /** dotted path, e.g. "errno", "signal.addr", "dmesg" */
  readonly field: string;
  readonly model: unknown;
  readonly kernel: unknown;
}

export interface StepDiff {
  readonly step: number;
  readonly op: string;
  readonly fields: readonly FieldDiff[];
  /** the entry of oracle/known-differences.yaml that explains this difference */
  readonly known?: KnownDifference;
}

/** "known": every difference is an understood one listed in oracle/known-differences.yaml */
export type ComparisonStatus = 'identical' | 'different' | 'known' | 'model-only';

export interface ScenarioComparison {
  readonly file: string;
  readonly name: string;
  readonly status: ComparisonStatus;
  /** steps run on both sides and compared */
  readonly compared: number;
  readonly steps: number;
  /** where the comparison ends because the rest runs on the model only */
  readonly modelOnly?: { readonly step: number; readonly op?: string; readonly reason: string };
  readonly differences: readonly StepDiff[];
  /** normalisations applied to the inputs, said out loud */
  readonly notes: readonly string[];
}

const SKIP = new Set(['step', 'op']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Objects compare member by member (signal.addr, stat.st_size); everything else as a whole. */
function diffValues(path: string, model: unknown, kernel: unknown, out: FieldDiff[]): void {
  if (isRecord(model) && isRecord(kernel)) {
    for (const k of new Set([...Object.keys(model), ...Object.keys(kernel)])) {
      if (!SKIP.has(k) || path) diffValues(path ? `${path}.${k}` : k, model[k], kernel[k], out);
    }
    return;
  }
  if (!same(model, kernel)) out.push({ field: path, model, kernel });
}

export function diffStep(model: NormalResult | undefined, kernel: NormalResult | undefined): FieldDiff[] {
  const out: FieldDiff[] = [];
  if (!model || !kernel) {
    out.push({ field: '(step)', model: model ? 'ran' : 'did not run', kernel: kernel ? 'ran' : 'did not run' });
    return out;
  }
  diffValues('', model, kernel, out);
  return out;
}

function stopOf(plan: OraclePlan, oracle: OracleScenarioRun | undefined): ScenarioComparison['modelOnly'] {
  if (plan.modelOnly) return { step: 0, reason: plan.modelOnly };
  if (oracle?.modelOnly) return oracle.modelOnly;
  if (oracle?.killed)
    return { step: oracle.killed.step, op: oracle.killed.op, reason: `the VMM ${oracle.killed.status}` };
  return undefined;
}

function notesOf(plan: OraclePlan, compared: number): string[] {
  return plan.injectedSteps
    .filter((i) => i < compared)
    .map((i) =>
      plan.swSimulatedSteps.includes(i)
        ? `step ${i}: memory_failure injected through debugfs corrupt-pfn: both sides ran it with MF_SW_SIMULATED, and the injector's own "Injecting memory failure" line is left out`
        : `step ${i}: memory_failure(MF_ACTION_REQUIRED) injected through MADV_HWPOISON at a temporary mapping; the injector's own "Injecting memory failure" line is left out`,
    );
}

const INJECTOR_LINE = /^Injecting memory failure (at|for) pfn /;

/**
 * memory_failure steps reach memory_failure() on the kernel through an injector (hwpoison_inject() or
 * madvise_inject_error()), which logs a line of its own first; the model's op is memory_failure() itself.
 */
function withoutInjectorLines(results: readonly StepResult[], injected: readonly number[]): StepResult[] {
  return results.map((r) => {
    if (!injected.includes(r.step) || !r.dmesg) return r;
    const dmesg = r.dmesg.filter((l) => !INJECTOR_LINE.test(l));
    const { dmesg: _drop, ...rest } = r;
    return dmesg.length > 0 ? { ...rest, dmesg } : rest;
  });
}

function knownFor(
  known: readonly KnownDifference[],
  kernel: string,
  file: string,
  step: number,
  fields: readonly FieldDiff[],
): KnownDifference | undefined {
  const path = projectPath(file);
  return known.find(
    (k) => k.kernel === kernel && k.file === path && k.step === step && fields.every((f) => k.fields.includes(f.field)),
  );
}

export interface CompareContext {
  /** the oracle kernel's id, e.g. "7.3.4" */
  readonly kernel: string;
  readonly known: readonly KnownDifference[];
}

/** Compares one scenario; `model` is the model run with plan.modelOptions (and modelScenario's flags). */
export function compareScenario(
  plan: OraclePlan,
  model: RunOutcome,
  oracle: OracleScenarioRun | undefined,
  ctx: CompareContext,
): ScenarioComparison {
  const steps = plan.compiled.steps;
  const stop = stopOf(plan, oracle);
  const kernelResults: StepResult[] = oracle?.results ?? [];
  const limit = stop ? stop.step : steps.length;
  const modelResults = model.results.filter((r) => r.step < limit);
  const m = normaliseRun(steps, withoutInjectorLines(modelResults, plan.injectedSteps));
  const k = normaliseRun(steps, withoutInjectorLines(kernelResults, plan.injectedSteps));
  const differences: StepDiff[] = [];
  for (let i = 0; i < limit; i++) {
    const fields = diffStep(
      m.find((r) => r.step === i),
      k.find((r) => r.step === i),
    );
    if (fields.length === 0) continue;
    const known = knownFor(ctx.known, ctx.kernel, plan.scenario.file, i, fields);
    differences.push({ step: i, op: steps[i].op, fields, ...(known ? { known } : {}) });
  }
  const compared = Math.min(limit, kernelResults.length);
  const status: ComparisonStatus =
    compared === 0 && stop
      ? 'model-only'
      : differences.length === 0
        ? 'identical'
        : differences.every((d) => d.known)
          ? 'known'
          : 'different';
  return {
    file: plan.scenario.file,
    name: plan.scenario.name,
    status,
    compared,
    steps: steps.length,
    modelOnly: stop,
    differences,
    notes: notesOf(plan, limit),
  };
}
