// The runner's output: JSON lines. Step lines are StepResults exactly as `gmemsim run --json` prints them;
// framing lines ({"oracle": ...}) say which scenario they belong to, where a run stopped because the rest is
// model-only, and how the scenario's process ended.
import { GmemsimError } from '../diagnostics/errors.js';
import type { StepResult } from '../ops/result.js';

export interface OracleMeta {
  readonly format: string;
  /** uname -r of the kernel that ran the scenarios */
  readonly kernel: string;
  readonly kvm: boolean;
  readonly maxphyaddr: number;
  /** time since boot when the runner started */
  readonly uptime_ms: number;
}

export interface ModelOnlyStop {
  readonly step: number;
  readonly op: string;
  readonly reason: string;
}

/** One run of a race scenario: its `steps`, then the threads' steps (with `thread`), then `after` (thread "after"). */
export interface RaceRun {
  readonly results: StepResult[];
  modelOnly?: ModelOnlyStop & { readonly thread?: string };
  killed?: { readonly step: number; readonly op: string; readonly status: string };
  status?: string;
}

export interface OracleScenarioRun {
  readonly id: number;
  readonly file: string;
  readonly name: string;
  readonly results: StepResult[];
  /** race mode: one entry per run */
  readonly races: RaceRun[];
  /** the oracle stopped before this step: it and everything after run on the model only */
  modelOnly?: ModelOnlyStop;
  /** the scenario's process died during this step (e.g. SIGKILL from memory failure) */
  killed?: { readonly step: number; readonly op: string; readonly status: string };
  status?: string;
}

export interface OracleRun {
  readonly meta?: OracleMeta;
  readonly scenarios: OracleScenarioRun[];
  /** the runner printed its final line */
  readonly complete: boolean;
  /** time since boot when the runner finished */
  readonly doneUptimeMs?: number;
  readonly error?: string;
}

type Frame = { oracle: string; scenario?: number } & Record<string, unknown>;

function parseLine(line: string): Record<string, unknown> | undefined {
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  try {
    const v: unknown = JSON.parse(line.slice(start));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // serial noise; a missing result shows up as an incomplete run
  }
}

function applyFrame(f: Frame, scenarios: Map<number, OracleScenarioRun>): void {
  const id = f.scenario ?? -1;
  if (f.oracle === 'begin') {
    scenarios.set(id, { id, file: String(f.file ?? ''), name: String(f.name ?? ''), results: [], races: [] });
    return;
  }
  const s = scenarios.get(id);
  if (!s) return;
  if (f.oracle === 'race_run') {
    s.races.push({ results: [] });
    return;
  }
  // frames inside a race run describe that run
  const target: OracleScenarioRun | RaceRun =
    s.races.at(-1) && s.races.at(-1)?.status === undefined ? s.races.at(-1)! : s;
  const stop = { step: Number(f.step), op: String(f.op), reason: String(f.reason) };
  if (f.oracle === 'model_only') target.modelOnly = typeof f.thread === 'string' ? { ...stop, thread: f.thread } : stop;
  else if (f.oracle === 'killed') target.killed = { step: Number(f.step), op: String(f.op), status: String(f.status) };
  else if (f.oracle === 'race_end' || f.oracle === 'end') target.status = String(f.status);
}

export function parseRunnerOutput(text: string): OracleRun {
  const scenarios = new Map<number, OracleScenarioRun>();
  let meta: OracleMeta | undefined;
  let complete = false;
  let doneUptimeMs: number | undefined;
  let error: string | undefined;
  let current: OracleScenarioRun | undefined;
  for (const raw of text.split('\n')) {
    const v = parseLine(raw.replace(/\r$/, ''));
    if (!v) continue;
    if (typeof v.oracle === 'string') {
      const f = v as Frame;
      if (f.oracle === 'meta') meta = v as unknown as OracleMeta;
      else if (f.oracle === 'done') {
        complete = true;
        doneUptimeMs = Number(f.uptime_ms);
      } else if (f.oracle === 'error') error = String(f.message);
      else applyFrame(f, scenarios);
      if (f.oracle === 'begin') current = scenarios.get(f.scenario ?? -1);
      continue;
    }
    if (typeof v.step !== 'number' || !current) continue;
    const race = current.races.at(-1);
    (race && race.status === undefined ? race.results : current.results).push(v as unknown as StepResult);
  }
  return { meta, scenarios: [...scenarios.values()].sort((a, b) => a.id - b.id), complete, doneUptimeMs, error };
}

/** A run that cannot be trusted as a whole is an error, with what the runner or the console said. */
export function checkRun(run: OracleRun, consoleTail: string): void {
  if (run.error) throw new GmemsimError({ code: 'GMEM5103', message: `oracle runner: ${run.error}` });
  if (!run.meta) {
    throw new GmemsimError({
      code: 'GMEM5103',
      message: 'the oracle runner printed nothing',
      hint: consoleTail ? `console: ${consoleTail}` : undefined,
    });
  }
  if (!run.meta.kvm) throw new GmemsimError({ code: 'GMEM5101', message: `no /dev/kvm in ${run.meta.kernel}` });
  if (!run.complete) {
    throw new GmemsimError({
      code: 'GMEM5103',
      message: 'the oracle run did not complete (timeout or crash)',
      hint: consoleTail ? `console: ${consoleTail}` : undefined,
    });
  }
}
