// The three fuzzers behind one interface, shared by the long runner (fuzz/run.ts), the replay of corpus entries
// and the vitest tests: what they generate, how a value becomes the text that is stored, and the property.
import fc from 'fast-check';
import { parse } from 'yaml';
import { type ScenarioDoc, scenarioYaml, type YamlValue } from './arbitraries.js';
import type { Kind } from './corpus.js';
import { checkAnyText, checkWellShaped, type ExploreTally, type Failure, FuzzFailure, newTally } from './harness.js';
import { KNOWN_SIGNATURES } from './known-failing.js';
import { languageInputArb } from './scenario-language.js';
import { seqProgramArb, seqText, threadProgramArb, threadText } from './uapi.js';

export interface Fuzzer {
  readonly kind: Kind;
  /** generates the input text directly (values are only ever used through their text) */
  readonly arb: fc.Arbitrary<string>;
  readonly check: (text: string, tally?: ExploreTally) => Failure | null;
  /** a smaller text that fails with the same signature, after fast-check's own shrinking */
  readonly minimize: (text: string, stillFails: (t: string) => boolean) => string;
}

export interface Stats {
  inputs: number;
  /** known failures (fuzz/known-failing.ts) met, by signature */
  readonly known: Map<string, number>;
  readonly tally: ExploreTally;
}

export const newStats = (): Stats => ({ inputs: 0, known: new Map(), tally: newTally() });

// ------------------------------------------------------------------------------------------------ minimizers

/** Greedy removal of lines, then of single characters for short texts, while the failure stays the same. */
function minimizeText(text: string, stillFails: (t: string) => boolean, budget = 400): string {
  let best = text;
  let tries = 0;
  const attempt = (t: string) => ++tries <= budget && t !== best && stillFails(t);
  for (let changed = true; changed && tries < budget; ) {
    changed = false;
    const lines = best.split('\n');
    for (let chunk = Math.max(1, lines.length >> 1); chunk >= 1 && tries < budget; chunk >>= 1) {
      for (let i = 0; i + chunk <= lines.length && tries < budget; ) {
        const cand = [...lines.slice(0, i), ...lines.slice(i + chunk)].join('\n');
        if (attempt(cand)) {
          best = cand;
          lines.splice(i, chunk);
          changed = true;
        } else i += chunk;
      }
    }
  }
  if (best.length <= 200) {
    for (let i = 0; i < best.length && tries < budget; ) {
      const cand = best.slice(0, i) + best.slice(i + 1);
      if (attempt(cand)) best = cand;
      else i++;
    }
  }
  return best;
}

/** Removes whole steps, then single arguments, of a generated scenario while the failure stays the same. */
function minimizeScenario(text: string, stillFails: (t: string) => boolean, budget = 400): string {
  let doc: ScenarioDoc;
  try {
    doc = parse(text, { intAsBigInt: true }) as ScenarioDoc;
  } catch {
    return text;
  }
  let best = text;
  let tries = 0;
  const attempt = (d: ScenarioDoc) => {
    if (++tries > budget) return false;
    const t = scenarioYaml(d);
    if (t !== best && stillFails(t)) {
      best = t;
      return true;
    }
    return false;
  };
  const lists = (d: ScenarioDoc): Array<Array<Record<string, YamlValue>>> => [
    d.steps,
    ...Object.values(d.threads ?? {}),
    ...(d.after ? [d.after] : []),
  ];
  for (let changed = true; changed && tries < budget; ) {
    changed = false;
    for (const [li, list] of lists(doc).entries()) {
      for (let i = list.length - 1; i >= 0 && tries < budget; i--) {
        const cand = structuredClone(doc);
        lists(cand)[li].splice(i, 1);
        if (attempt(cand)) {
          doc = cand;
          changed = true;
        }
      }
    }
    for (const [li, list] of lists(doc).entries()) {
      for (let i = 0; i < list.length && tries < budget; i++) {
        for (const key of Object.keys(list[i])) {
          if (key === 'op') continue;
          const cand = structuredClone(doc);
          delete lists(cand)[li][i][key];
          if (attempt(cand)) {
            doc = cand;
            changed = true;
          }
        }
      }
    }
    for (const key of Object.keys(doc.options ?? {})) {
      const cand = structuredClone(doc);
      delete cand.options![key];
      if (attempt(cand)) {
        doc = cand;
        changed = true;
      }
    }
  }
  return best;
}

// ------------------------------------------------------------------------------------------------ fuzzers

export const FUZZERS: Readonly<Record<Kind, Fuzzer>> = {
  language: { kind: 'language', arb: languageInputArb, check: checkAnyText, minimize: minimizeText },
  'uapi-seq': { kind: 'uapi-seq', arb: seqProgramArb.map(seqText), check: checkWellShaped, minimize: minimizeScenario },
  'uapi-threads': {
    kind: 'uapi-threads',
    arb: threadProgramArb.map(threadText),
    check: checkWellShaped,
    minimize: minimizeScenario,
  },
};

/**
 * The fast-check property of a fuzzer. Known failures count as passes (they are in the corpus already); while
 * shrinking, only the failure first seen counts, so that shrinking cannot slip to a different bug.
 */
export function fuzzProperty(fz: Fuzzer, stats: Stats): fc.IPropertyWithHooks<[string]> {
  let target: string | undefined;
  return fc.property(fz.arb, (text) => {
    stats.inputs++;
    const f = fz.check(text, stats.tally);
    if (!f) return;
    if (KNOWN_SIGNATURES.has(f.signature)) {
      stats.known.set(f.signature, (stats.known.get(f.signature) ?? 0) + 1);
      return;
    }
    target ??= f.signature;
    if (f.signature === target) throw new FuzzFailure(f);
  });
}

export interface ChunkResult {
  readonly runs: number;
  readonly found?: { readonly text: string; readonly failure: Failure; readonly seed: number; readonly path: string };
}

/** One seeded fast-check run of `numRuns` inputs; a failure comes back shrunk and then minimized further. */
export function runChunk(fz: Fuzzer, seed: number, numRuns: number, stats: Stats): ChunkResult {
  const before = stats.inputs;
  const d = fc.check(fuzzProperty(fz, stats), { seed, numRuns });
  if (!d.failed || d.counterexample === null) return { runs: stats.inputs - before };
  const shrunk = d.counterexample[0];
  const first = fz.check(shrunk) ?? (d.errorInstance as FuzzFailure | undefined)?.failure;
  if (!first) return { runs: stats.inputs - before };
  const text = fz.minimize(shrunk, (t) => fz.check(t)?.signature === first.signature);
  const failure = fz.check(text) ?? first;
  return { runs: stats.inputs - before, found: { text, failure, seed, path: d.counterexamplePath } };
}
