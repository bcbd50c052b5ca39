// The fuzz corpus as regression tests: every saved input now runs cleanly (a clean result or a coded, located
// error), except those fuzz/known-failing.ts lists, which must still fail exactly as recorded.
import { describe, expect, it } from 'vitest';
import { listEntries } from '../../fuzz/corpus.js';
import { FUZZERS } from '../../fuzz/fuzzers.js';
import { KNOWN_FAILING } from '../../fuzz/known-failing.js';

const entries = listEntries();
const known = new Map(KNOWN_FAILING.map((k) => [k.file, k]));

describe('fuzz corpus', () => {
  it('is not empty', () => {
    expect(entries.length).toBeGreaterThan(0);
  });

  for (const e of entries) {
    it(`${e.file} (${e.signature})`, () => {
      const failure = FUZZERS[e.kind].check(e.text);
      const k = known.get(e.file);
      if (k) expect(failure?.signature).toBe(k.signature);
      else expect(failure).toBeNull();
    });
  }

  it('lists only known failures that are in the corpus', () => {
    const files = new Set(entries.map((e) => e.file));
    for (const k of KNOWN_FAILING) expect(files.has(k.file)).toBe(true);
  });
});
