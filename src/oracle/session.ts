// One oracle session: plan the scenarios for a kernel, prepare it, run them all in one boot (or on this host),
// and compare with the model. The CLI commands and the tests use these entry points.
import { GmemsimError } from '../diagnostics/errors.js';
import type { StepResult } from '../ops/result.js';
import { compareExpect } from '../scenario/expect.js';
import type { Scenario } from '../scenario/load.js';
import { type RunOutcome, runScenario, type StepMismatch } from '../scenario/run.js';
import type { Log } from './apt.js';
import { type OracleOutcome, runInQemu, runOnHost, type Timings } from './boot.js';
import { compareScenario, type ScenarioComparison } from './diff.js';
import { KERNEL_PROFILES, type KernelProfile, kernelProfile } from './kernels.js';
import { type KnownDifference, loadKnownDifferences, projectPath } from './known.js';
import { cacheLayout } from './paths.js';
import { modelScenario, type OraclePlan, planScenario, runnerInput } from './plan.js';
import { prepareKernel, prepareRunner } from './prepare.js';
import type { OracleScenarioRun } from './protocol.js';
import { compareRace, planRace, type RaceComparison, type RacePlan, raceInput } from './race.js';

export interface OracleRequest {
  readonly scenarios: readonly Scenario[];
  readonly kernel: string;
  /** run the runner on this machine (needs /dev/kvm) instead of booting QEMU */
  readonly host?: boolean;
  readonly cacheDir?: string;
  readonly timeoutMs?: number;
  /** extra kernel parameters for the QEMU boot */
  readonly append?: string;
  readonly log?: Log;
}

export interface OracleSession {
  readonly profile: KernelProfile;
  readonly plans: readonly OraclePlan[];
  /** absent when no scenario had anything the oracle could run */
  readonly outcome?: OracleOutcome;
}

export function resolveProfile(id: string): KernelProfile {
  const p = kernelProfile(id);
  if (!p) {
    throw new GmemsimError({
      code: 'GMEM5002',
      message: `unknown oracle kernel "${id}"`,
      hint: `kernels: ${KERNEL_PROFILES.map((k) => k.id).join(', ')}`,
    });
  }
  return p;
}

const DEFAULT_TIMEOUT_MS = 900_000;

/** Runs a runner input in one boot (or on this host). */
async function runInput(profile: KernelProfile, input: string, req: OracleRequest, smp = 1): Promise<OracleOutcome> {
  const c = cacheLayout(req.cacheDir);
  const log = req.log ?? (() => {});
  const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return req.host
    ? await runOnHost(await prepareRunner(c, log), input, c, timeoutMs)
    : await runInQemu(await prepareKernel(profile, c, log), input, c, { timeoutMs, append: req.append, smp });
}

export async function runOracle(req: OracleRequest): Promise<OracleSession> {
  const profile = resolveProfile(req.kernel);
  const plans = req.scenarios.map((s) => planScenario(s, profile));
  if (plans.every((p) => p.modelOnly)) return { profile, plans };
  return { profile, plans, outcome: await runInput(profile, runnerInput(plans), req) };
}

export interface RaceSession {
  readonly profile: KernelProfile;
  readonly plans: readonly RacePlan[];
  readonly outcome?: OracleOutcome;
}

/** Race mode: every threaded scenario `runs` times, all in one boot. */
export async function runRaces(req: OracleRequest & { readonly runs: number }): Promise<RaceSession> {
  const profile = resolveProfile(req.kernel);
  const plans = req.scenarios.map((s) => planRace(s, profile, req.runs));
  if (plans.every((p) => p.modelOnly)) return { profile, plans };
  // two vCPUs, so the scenario's threads really run at the same time (TCG runs one host thread per vCPU)
  return { profile, plans, outcome: await runInput(profile, raceInput(plans), req, 2) };
}

export function compareRaces(session: RaceSession): RaceComparison[] {
  return session.plans.map((p, i) =>
    compareRace(
      p,
      session.outcome?.run.scenarios.find((s) => s.id === i),
      session.profile,
    ),
  );
}

/** The oracle's results for plan number i (plans that were model-only were not sent). */
export function oracleResultsFor(session: OracleSession, i: number): OracleScenarioRun | undefined {
  return session.outcome?.run.scenarios.find((s) => s.id === i);
}

/** The scenario's own expectations, checked against the kernel's results (for the steps the kernel ran). */
export function kernelMismatches(plan: OraclePlan, results: readonly StepResult[]): StepMismatch[] {
  const labels = new Map<string, bigint>();
  const out: StepMismatch[] = [];
  for (const r of results) {
    const spec = plan.scenario.steps[r.step];
    if (spec.as !== undefined) labels.set(spec.as, BigInt.asUintN(64, BigInt(r.ret)));
    if (!spec.expect) continue;
    for (const m of compareExpect(spec.expect, r, labels)) out.push({ ...m, step: r.step, op: r.op, loc: spec.loc });
  }
  return out;
}

export interface DiffReport {
  readonly session: OracleSession;
  readonly comparisons: readonly ScenarioComparison[];
  readonly timings: { readonly oracle?: Timings; readonly modelMs: number };
  /** known differences for scenarios and steps this run compared that no longer occur */
  readonly stale: readonly KnownDifference[];
}

/** Entries about steps this run compared, for this kernel, that matched no difference. */
function staleKnown(
  known: readonly KnownDifference[],
  kernel: string,
  cs: readonly ScenarioComparison[],
): KnownDifference[] {
  return known.filter((k) => {
    if (k.kernel !== kernel) return false;
    const c = cs.find((x) => projectPath(x.file) === k.file);
    if (!c || k.step >= c.compared) return false;
    return !c.differences.some((d) => d.known === k);
  });
}

function runModel(plan: OraclePlan): RunOutcome | GmemsimError {
  try {
    return runScenario(modelScenario(plan), { options: plan.modelOptions });
  } catch (e) {
    if (e instanceof GmemsimError) return e; // one broken scenario must not cost the report of a whole boot
    throw e;
  }
}

function comparisonWithoutModel(p: OraclePlan, reason: string, status: 'model-only' | 'different'): ScenarioComparison {
  return {
    file: p.scenario.file,
    name: p.scenario.name,
    status,
    compared: 0,
    steps: p.compiled.steps.length,
    ...(status === 'model-only' ? { modelOnly: { step: 0, reason } } : {}),
    differences:
      status === 'different'
        ? [{ step: 0, op: '(model)', fields: [{ field: '(model run)', model: reason, kernel: 'ran' }] }]
        : [],
    notes: [],
  };
}

/** Runs the model side of every plan the oracle ran, and compares. */
export function compareSession(
  session: OracleSession,
  known: readonly KnownDifference[] = loadKnownDifferences(),
): DiffReport {
  const ctx = { kernel: session.profile.id, known };
  const t0 = performance.now();
  const models = session.plans.map((p) => (p.modelOnly ? undefined : runModel(p)));
  const modelMs = performance.now() - t0;
  const comparisons = session.plans.map((p, i) => {
    const model = models[i];
    if (!model) return comparisonWithoutModel(p, p.modelOnly ?? '', 'model-only');
    if (model instanceof GmemsimError) return comparisonWithoutModel(p, `${model.code}: ${model.message}`, 'different');
    return compareScenario(p, model, oracleResultsFor(session, i), ctx);
  });
  const stale = staleKnown(known, session.profile.id, comparisons);
  return { session, comparisons, timings: { oracle: session.outcome?.timings, modelMs }, stale };
}
