// The conformance suite: one scenario per upstream selftest expectation (conformance/**.yaml), each citing its
// selftest as the first words of its description ("guest_memfd_test.c test_fallocate: ..."), plus
// conformance/not-covered.yaml for expectations the model deliberately does not cover.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { GmemsimError } from '../diagnostics/errors.js';
import type { Scenario } from '../scenario/load.js';
import { runScenario, type StepMismatch } from '../scenario/run.js';

export interface SelftestRef {
  readonly file: string;
  readonly fn: string;
}

export interface NotCovered extends SelftestRef {
  readonly reason: string;
}

export interface ConformanceResult {
  readonly scenario: Scenario;
  readonly selftest?: SelftestRef;
  readonly mismatches: readonly StepMismatch[];
  /** set when the model stopped the run (panic, SIGKILL) */
  readonly stopped?: string;
}

export const NOT_COVERED_FILE = 'not-covered.yaml';

/** "guest_memfd_test.c test_fallocate: ..." or "x86/private_mem_kvm_exits_test.c test_x, test_y: ..." */
const CITATION = /^\s*([\w./-]+\.c)\s+([\w]+(?:\s*,\s*[\w]+)*)\s*:/;

export function selftestOf(s: Scenario): SelftestRef | undefined {
  const m = CITATION.exec(s.description);
  return m ? { file: m[1], fn: m[2].replace(/\s+/g, '') } : undefined;
}

export function loadNotCovered(dir: string): NotCovered[] {
  const path = join(dir, NOT_COVERED_FILE);
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new GmemsimError({ code: 'GMEM5001', message: `cannot read ${path}: ${(e as Error).message}` });
  }
  if (!Array.isArray(raw)) throw new GmemsimError({ code: 'GMEM5001', message: `${path}: expected a list` });
  return raw.map((e: Record<string, unknown>) => ({
    file: String(e.selftest),
    fn: String(e.function),
    reason: String(e.reason),
  }));
}

/** Runs a conformance scenario on the model with its own options and checks its expectations. */
export function runConformanceCase(s: Scenario): ConformanceResult {
  const out = runScenario(s);
  return { scenario: s, selftest: selftestOf(s), mismatches: out.mismatches, stopped: out.stopped };
}

export function passed(r: ConformanceResult): boolean {
  return r.mismatches.length === 0 && r.stopped === undefined;
}
