// The explorer's entry points for the web server: an exploration or a variant table, as documents the viewer
// opens. They run on a worker thread so the server keeps answering (and can cancel) while a search runs.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { KernelOptions } from '../kernel/options.js';
import type { Scenario } from '../scenario/load.js';
import type { RunBundle } from './bundle.js';
import { type ExploreJob, runExploreJob } from './explore-job.js';
import type { CounterexampleBundle, VariantTable } from './ui-formats.js';

export interface UiRequest {
  /** replay this execution instead of searching */
  readonly token?: string;
  readonly signal: AbortSignal;
}

const WORKER = new URL('./explore-job.worker.js', import.meta.url);
let pool: Piscina | undefined;

/** Runs a job on the worker pool; from TypeScript sources (tests) there is no compiled worker, so inline. */
async function run(job: ExploreJob, signal: AbortSignal): Promise<unknown> {
  if (!existsSync(fileURLToPath(WORKER))) return runExploreJob(job);
  pool ??= new Piscina({ filename: fileURLToPath(WORKER), maxThreads: 2, idleTimeout: 30_000 });
  return pool.run(job, { signal });
}

/**
 * Explores the scenario's interleavings: a counterexample for the first property violated, else one execution
 * as a run. With a token, that execution.
 */
export async function exploreForUi(
  scenario: Scenario,
  options: Partial<KernelOptions>,
  request: UiRequest,
): Promise<CounterexampleBundle | RunBundle> {
  const job: ExploreJob = {
    kind: 'explore',
    file: scenario.file,
    text: scenario.source.text,
    options,
    token: request.token,
  };
  return (await run(job, request.signal)) as CounterexampleBundle | RunBundle;
}

/** Every error-handler variant × mm behaviour of the scenario, as a table. */
export async function variantsForUi(
  scenario: Scenario,
  request: { readonly signal: AbortSignal },
): Promise<VariantTable> {
  const job: ExploreJob = { kind: 'variants', file: scenario.file, text: scenario.source.text };
  return (await run(job, request.signal)) as VariantTable;
}
