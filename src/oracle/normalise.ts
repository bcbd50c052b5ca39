// Values that legitimately differ between the model and a real kernel (addresses, pfns, inode numbers, pids) are
// rewritten symbolically, the same way on both sides: through the labels the scenario gave them where it did
// (`mmap ... as: mem` makes an address `<mem+0x1000>`, `pagemap ... as: p1` makes a pfn `<pfn:p1>`), otherwise
// by order of first appearance (`<pfn#2>`). Equalities survive, so a pfn that should be the same on both sides
// still has to be. Nothing else is touched: fds, errnos, GPAs, values and log text compare exactly.
import type { StepResult } from '../ops/result.js';
import type { CompiledStep, CompiledValue } from '../scenario/compile.js';

/** A step result with symbolic values, ready for field-by-field comparison. */
export type NormalResult = Record<string, unknown> & { step: number; op: string };

interface Region {
  readonly name: string;
  readonly base: bigint;
  readonly length: bigint;
}

const big = (v: unknown): bigint => {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(v)) return BigInt.asUintN(64, BigInt(v));
  return 0n;
};

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** The symbols of one side of a comparison; fed the steps in order. */
export class Symbols {
  private readonly labels = new Map<string, bigint>();
  private readonly regions: Region[] = [];
  private readonly pfnLabels = new Map<bigint, string>();
  private readonly seen = new Map<string, Map<bigint, number>>();

  /** `<kind#n>`: the n-th distinct value of this kind seen in the run */
  private ordinal(kind: string, v: bigint): string {
    const m = this.seen.get(kind) ?? new Map<bigint, number>();
    this.seen.set(kind, m);
    if (!m.has(v)) m.set(v, m.size + 1);
    return `<${kind}#${m.get(v)}>`;
  }

  value(v: CompiledValue | undefined): bigint {
    if (!v) return 0n;
    if ('n' in v) return BigInt(v.n);
    if ('label' in v) return BigInt.asUintN(64, (this.labels.get(v.label) ?? 0n) + BigInt.asIntN(64, BigInt(v.add)));
    return 0n;
  }

  addr(v: bigint): string {
    for (let i = this.regions.length - 1; i >= 0; i--) {
      const r = this.regions[i];
      if (v >= r.base && v < r.base + r.length) return v === r.base ? `<${r.name}>` : `<${r.name}+${hex(v - r.base)}>`;
    }
    return this.ordinal('addr', v);
  }

  pfn(v: bigint): string {
    const label = this.pfnLabels.get(v);
    return label ? `<pfn:${label}>` : this.ordinal('pfn', v);
  }

  ino(v: bigint): string {
    return this.ordinal('ino', v);
  }

  /** Records what a step defined: its label, a mapping, a labelled pfn. */
  define(st: CompiledStep, r: StepResult): void {
    const ret = big(r.ret);
    if (st.as) this.labels.set(st.as, ret);
    if (st.op === 'mmap' && r.ret !== -1) {
      this.regions.push({ name: st.as ?? `mmap@${st.index}`, base: ret, length: this.value(st.args.length) });
    }
    if (st.op === 'pagemap' && st.as && ret !== 0n) this.pfnLabels.set(ret, st.as);
  }
}

/**
 * %pGp page-flags dumps ("type 0xfffffc004001c(referenced|uptodate|dirty|unevictable|node=0|zone=1|lastcpupid=0x1fffff)")
 * carry the node, zone and last-cpupid fields of the machine in the same word: only the flag names compare.
 */
function normalisePageFlags(line: string): string {
  return line.replace(/\btype 0x[0-9a-f]+\(([^)]*)\)/g, (_m, names: string) => {
    const flags = names.split('|').filter((n) => n && !/^(node|zone|section|lastcpupid|kasantag)=/.test(n));
    return `type <pageflags>(${flags.join('|')})`;
  });
}

/** Kernel log text: pfns, addresses and the VMM's pid become symbols. */
export function normaliseLogLine(line: string, sym: Symbols): string {
  return normalisePageFlags(line)
    .replace(/\b(Memory failure: |Unpoison: |Soft offline: |pfn )0x([0-9a-f]+)/g, (_m, pre: string, v: string) => {
      return `${pre}${sym.pfn(BigInt(`0x${v}`))}`;
    })
    .replace(
      /\b(virtual address )0x([0-9a-f]+)/g,
      (_m, pre: string, v: string) => `${pre}${sym.addr(BigInt(`0x${v}`))}`,
    )
    .replace(/\b(fault at )([0-9a-f]+)\b/g, (_m, pre: string, v: string) => `${pre}${sym.addr(BigInt(`0x${v}`))}`)
    .replace(/\bvmm:\d+\b/g, 'vmm:<pid>');
}

/** The return value of a debugfs hwpoison write is the length of "0x<pfn>\n", which depends on the pfn. */
function hwpoisonRet(st: CompiledStep, r: StepResult, sym: Symbols): unknown {
  if (r.ret === -1) return r.ret;
  const pfn = sym.value(st.args.pfn);
  return big(r.ret) === BigInt(`${hex(pfn)}\n`.length) ? '<strlen("0x<pfn>\\n")>' : r.ret;
}

function normaliseRet(st: CompiledStep, r: StepResult, sym: Symbols): unknown {
  switch (st.op) {
    case 'mmap':
      return r.ret === -1 ? r.ret : sym.addr(big(r.ret));
    case 'pagemap':
      return r.ret === 0 ? 0 : sym.pfn(big(r.ret));
    case 'corrupt_pfn':
    case 'unpoison_pfn':
      return hwpoisonRet(st, r, sym);
    default:
      return r.ret;
  }
}

export function normaliseResult(st: CompiledStep, r: StepResult, sym: Symbols): NormalResult {
  sym.define(st, r); // first, so a mapping or a pfn is named after the step's own label
  const out: NormalResult = { ...r, ret: normaliseRet(st, r, sym) } as NormalResult;
  if (r.signal) out.signal = { ...r.signal, addr: r.signal.addr === 0 ? 0 : sym.addr(big(r.signal.addr)) };
  if (r.stat) out.stat = { ...r.stat, st_ino: sym.ino(big(r.stat.st_ino)) };
  if (r.memory_fault) out.memory_fault = { ...r.memory_fault, flags: [...r.memory_fault.flags].sort() };
  if (r.dmesg) out.dmesg = r.dmesg.map((l) => normaliseLogLine(l, sym));
  if (r.livelock !== undefined) out.livelock = true; // the model's bound and the oracle's watchdog word it differently
  return out;
}

/** Normalises one side's results of a scenario, in step order. */
export function normaliseRun(steps: readonly CompiledStep[], results: readonly StepResult[]): NormalResult[] {
  const sym = new Symbols();
  return results.map((r) => normaliseResult(steps[r.step], r, sym));
}
