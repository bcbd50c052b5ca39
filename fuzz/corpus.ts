// The fuzz corpus: one file per minimal failing input, fuzz/corpus/<kind>/<hash>.yaml, with a comment header
// saying what failed and how it was found. uAPI entries are ordinary scenarios (`gmemsim run` takes them); a
// language entry whose text a comment header would change, or that is not valid UTF-8 text, is stored base64.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Failure } from './harness.js';

export const CORPUS_DIR = join(import.meta.dirname, 'corpus');
export const KINDS = ['language', 'uapi-seq', 'uapi-threads'] as const;
export type Kind = (typeof KINDS)[number];

export interface Entry {
  readonly kind: Kind;
  /** path relative to the repository root */
  readonly file: string;
  /** the input exactly as the fuzzer ran it */
  readonly text: string;
  /** the signature recorded when it was found */
  readonly signature: string;
}

export interface Found {
  readonly kind: Kind;
  readonly text: string;
  readonly failure: Failure;
  /** how to find it again: fast-check seed and path, or the runner's description */
  readonly origin: string;
}

const ROOT = join(import.meta.dirname, '..');
const ENVELOPE = '# encoding: base64';

const oneLine = (s: string, max = 300) => {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}...` : line;
};

function header(f: Found, file: string): string {
  return [
    `# gmemsim fuzz corpus entry (${f.kind})`,
    `# failed: ${f.failure.signature}`,
    `# message: ${oneLine(f.failure.message)}`,
    `# found: ${oneLine(f.origin, 200)}`,
    `# replay: npx tsx fuzz/run.ts --replay ${file}`,
    '',
  ].join('\n');
}

/** Text that survives a round trip through a UTF-8 file unchanged. */
const storable = (t: string) => Buffer.from(t, 'utf8').toString('utf8') === t && !t.includes('\r');

/** Decodes a corpus file into the input it holds. */
export function parseEntry(file: string, content: string, kind: Kind): Entry {
  const lines = content.split('\n');
  const sig = lines.find((l) => l.startsWith('# failed: '))?.slice('# failed: '.length) ?? '';
  if (lines.includes(ENVELOPE)) {
    const b64 = lines.find((l) => l.startsWith('text_base64: '))?.slice('text_base64: '.length) ?? '';
    return { kind, file, text: Buffer.from(b64, 'base64').toString('utf8'), signature: sig };
  }
  return { kind, file, text: content, signature: sig };
}

export const hashOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/**
 * Writes a finding; `reproduces` re-checks the stored form, so that a header which changes what the input does
 * (a byte-order mark, a directive) falls back to the base64 form. Returns the path relative to the repository.
 */
export function saveEntry(f: Found, reproduces: (text: string) => boolean): string {
  const dir = join(CORPUS_DIR, f.kind);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${hashOf(f.text)}.yaml`);
  const rel = relative(ROOT, file);
  const plain = header(f, rel) + f.text;
  if (storable(f.text) && reproduces(plain)) {
    writeFileSync(file, plain);
  } else {
    const b64 = Buffer.from(f.text, 'utf8').toString('base64');
    writeFileSync(
      file,
      `${header(f, rel)}${ENVELOPE}\n# the input is text_base64, decoded as UTF-8\ntext_base64: ${b64}\n`,
    );
  }
  return rel;
}

export function listEntries(): Entry[] {
  const out: Entry[] = [];
  for (const kind of KINDS) {
    const dir = join(CORPUS_DIR, kind);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.yaml')) continue;
      const path = join(dir, f);
      out.push(parseEntry(relative(ROOT, path), readFileSync(path, 'utf8'), kind));
    }
  }
  return out;
}

export function readEntry(file: string): Entry {
  const kind = KINDS.find((k) => file.split(/[\\/]/).includes(k));
  if (!kind) throw new Error(`${file}: not under fuzz/corpus/<${KINDS.join('|')}>/`);
  return parseEntry(file, readFileSync(file, 'utf8'), kind);
}
