// A seeded sample of generated syscall sequences, run on the model and on a real kernel (gmemsim diff).
//
// The sample is drawn with the options Debian's kernels have (mainline handlers, 7.3 uAPI, no
// CONFIG_KVM_SW_PROTECTED_VM) and leaves out what the model, by assumption, cannot compare: literal pfns (the model
// allocates from 4 GiB up, a real machine anywhere) and the standard fds 0-2 (closed in the model's VMM).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { seqProgramArb, seqText } from './uapi.js';

const ROOT = resolve(import.meta.dirname, '..');
const DEBIAN_OPTIONS = { mm: 'mainline', error_handler: 'mainline', kernel: '7.3', sw_protected_vm: false };
const LITERAL_PFN = /\bpfn: -?(?:0x[0-9a-f]+|\d+)/i;
const STD_FD = /\b(?:fd|vm|vcpu): [012]\b/;

interface DiffJson {
  readonly counts: Record<string, number>;
  readonly scenarios: ReadonlyArray<{
    readonly file: string;
    readonly status: string;
    readonly differences: ReadonlyArray<{ step: number; op: string; fields: ReadonlyArray<Record<string, unknown>> }>;
  }>;
}

/** Writes `count` comparable programs drawn with `seed` into a new folder; returns it. */
export function sampleForOracle(seed: number, count: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'gmemsim-fuzz-oracle-'));
  const texts: string[] = [];
  for (let round = 0; texts.length < count && round < 50; round++) {
    for (const p of fc.sample(seqProgramArb, { seed: seed + round, numRuns: count })) {
      const text = seqText({ ...p, options: DEBIAN_OPTIONS });
      if (!LITERAL_PFN.test(text) && !STD_FD.test(text) && texts.length < count) texts.push(text);
    }
  }
  for (const [i, t] of texts.entries()) writeFileSync(join(dir, `sample-${String(i).padStart(3, '0')}.yaml`), t);
  return dir;
}

/** Runs the sample through `gmemsim diff`; exit status 1 when the model and the kernel disagree on a step. */
export function runOracleSample(seed: number, count: number, kernel: string): number {
  const dir = sampleForOracle(seed, count);
  process.stdout.write(`fuzz --oracle: ${count} programs (--seed ${seed}) in ${dir}, on Debian ${kernel}\n`);
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'gmemsim.js'), 'diff', '--json', '--kernel', kernel, dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0 && r.status !== 1) {
    process.stdout.write(`gmemsim diff could not run (exit ${r.status}); see above\n`);
    return 2;
  }
  const d = JSON.parse(r.stdout) as DiffJson;
  // the model refusing a program ("not modeled", "cannot run as written") is not a disagreement about the kernel
  const refused = d.scenarios.filter((s) => s.differences.some((x) => x.op === '(model)'));
  const differ = d.scenarios.filter((s) => s.status === 'different' && !refused.includes(s));
  const lines = [
    `identical ${d.counts.identical}, different ${differ.length}, refused by the model ${refused.length}, ` +
      `model-only ${d.counts.modelOnly}, known differences ${d.counts.known}`,
  ];
  for (const s of differ) {
    lines.push(`DIFFERENT ${s.file}`);
    for (const x of s.differences) lines.push(`  step ${x.step} ${x.op}: ${JSON.stringify(x.fields)}`);
  }
  for (const s of refused) {
    const why = s.differences.find((x) => x.op === '(model)')?.fields[0]?.model;
    lines.push(`refused ${s.file}: ${String(why)}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return differ.length > 0 ? 1 : 0;
}
