// Differences between the model and a real kernel that are understood, with kernel evidence and a proposed fix,
// but not fixed yet (oracle/known-differences.yaml). The diff still prints them, marked "known"; they do not fail
// it. An entry that no longer matches anything is stale and does fail, so the list cannot outlive the fix.
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { GmemsimError } from '../diagnostics/errors.js';
import { oracleSourceDir, projectRoot } from './paths.js';

export interface KnownDifference {
  readonly kernel: string;
  /** scenario file, relative to the project root */
  readonly file: string;
  readonly step: number;
  /** the differing fields; every field of the step's difference must be listed */
  readonly fields: readonly string[];
  readonly reason: string;
  readonly evidence: string;
  readonly fix: string;
}

export const KNOWN_DIFFERENCES_FILE = 'known-differences.yaml';

function entry(e: Record<string, unknown>, path: string): KnownDifference {
  const str = (k: string) => {
    if (typeof e[k] !== 'string') throw new GmemsimError({ code: 'GMEM5001', message: `${path}: entry needs ${k}` });
    return e[k] as string;
  };
  if (typeof e.step !== 'number' || !Array.isArray(e.fields)) {
    throw new GmemsimError({ code: 'GMEM5001', message: `${path}: entry needs step and fields` });
  }
  return {
    kernel: str('kernel'),
    file: str('file'),
    step: e.step,
    fields: e.fields.map(String),
    reason: str('reason'),
    evidence: str('evidence'),
    fix: str('fix'),
  };
}

export function loadKnownDifferences(path = join(oracleSourceDir(), KNOWN_DIFFERENCES_FILE)): KnownDifference[] {
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8')) ?? [];
  } catch (e) {
    throw new GmemsimError({ code: 'GMEM5001', message: `cannot read ${path}: ${(e as Error).message}` });
  }
  if (!Array.isArray(raw)) throw new GmemsimError({ code: 'GMEM5001', message: `${path}: expected a list` });
  return raw.map((e) => entry(e as Record<string, unknown>, path));
}

/** A scenario file as the known-differences list names it. */
export function projectPath(file: string): string {
  return relative(projectRoot(), resolve(file));
}
