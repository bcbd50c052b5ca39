// An explorer job for the web server, as plain data so it can cross to a worker thread, and the synchronous code
// that runs it and returns a viewer document.

import { ApiArgumentError } from '../diagnostics/errors.js';
import { counterexampleBundle, executionBundle, replay } from '../engine/counterexample.js';
import { explore, type ViolationReport } from '../engine/explore.js';
import { type Program, prepareProgram } from '../engine/program.js';
import { decodeToken, encodeToken, tokenProblem } from '../engine/token.js';
import { variantConfigs, variantTable } from '../engine/variants.js';
import type { KernelOptions } from '../kernel/options.js';
import { propertyTitle } from '../properties/properties.js';
import { loadScenario } from '../scenario/load.js';
import type { RunBundle } from './bundle.js';
import type { CounterexampleBundle, VariantTable } from './ui-formats.js';

export type ExploreJob =
  | {
      readonly kind: 'explore';
      readonly file: string;
      readonly text: string;
      readonly options: Partial<KernelOptions>;
      readonly token?: string;
    }
  | { readonly kind: 'variants'; readonly file: string; readonly text: string };

/** A page waits for the answer: searches for it are bounded, and say so in the result when cut short. */
export const UI_BUDGET = { maxSeconds: 20, maxExecutions: 20_000 } as const;

export function runExploreJob(job: ExploreJob): CounterexampleBundle | RunBundle | VariantTable {
  const scenario = loadScenario(job.file, job.text);
  if (job.kind === 'variants') {
    const rows = variantConfigs().map((config) => ({
      config,
      result: explore(prepareProgram(scenario, config), {
        maxExecutions: UI_BUDGET.maxExecutions,
        maxSeconds: UI_BUDGET.maxSeconds / 4,
      }),
    }));
    return variantTable(scenario, rows);
  }
  const p = prepareProgram(scenario, job.options);
  if (job.token !== undefined) return replayToken(p, job.token);
  const r = explore(p, UI_BUDGET);
  const first = r.violations[0];
  if (first) return counterexampleBundle(p, first, decodeToken(first.token)!.schedule);
  return executionBundle(p, []).bundle;
}

function replayToken(p: Program, token: string): CounterexampleBundle | RunBundle {
  const d = decodeToken(token);
  const problem = tokenProblem(p, token, d);
  if (problem) throw new ApiArgumentError({ code: 'GMEM2003', message: problem, path: 'token' });
  const r = replay(p, d!.schedule, false);
  const v = r.violations[0];
  if (!v) return executionBundle(p, d!.schedule).bundle;
  const report: ViolationReport = {
    code: v.code,
    title: propertyTitle(v.code),
    message: v.message,
    ...(v.thread ? { thread: v.thread } : {}),
    token: encodeToken(p, r.schedule),
    preemptions: r.preemptions,
    length: r.schedule.length,
    occurrences: 1,
  };
  return counterexampleBundle(p, report, d!.schedule);
}
