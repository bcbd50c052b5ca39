// Corpus entries that still fail because of a bug not fixed yet, each with its diagnosis. The regression test
// requires every entry listed here to still fail with exactly this signature, so the list cannot go stale: when a
// fix lands, the test fails until the entry is removed from here (and then it must pass like every other corpus
// entry). The fuzzers count these signatures as known instead of reporting them again.

export interface KnownFailure {
  /** corpus file, relative to the repository root */
  readonly file: string;
  readonly signature: string;
  /** one line; the full diagnosis is in the fuzzing report */
  readonly why: string;
}

export const KNOWN_FAILING: readonly KnownFailure[] = [];

export const KNOWN_SIGNATURES: ReadonlySet<string> = new Set(KNOWN_FAILING.map((k) => k.signature));
