// Number and name formatting shared by the views: the kernel prints gfns and pfns in hex, so the page does too.

export function hex(v: number | string | undefined | null): string {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'string') return v.startsWith('0x') ? v : v;
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

export function bytes(n: number): string {
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)} GiB`;
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KiB`;
  return `${n} B`;
}

export function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** include/uapi/linux/kvm.h KVM_X86_*_VM */
const VM_TYPES = [
  'KVM_X86_DEFAULT_VM',
  'KVM_X86_SW_PROTECTED_VM',
  'KVM_X86_SEV_VM',
  'KVM_X86_SEV_ES_VM',
  'KVM_X86_SNP_VM',
  'KVM_X86_TDX_VM',
];

export function vmType(t: number): string {
  return VM_TYPES[t] ?? `type ${t}`;
}

/** KVM_MEMORY_ATTRIBUTE_PRIVATE is bit 3; no other attribute exists upstream. */
export function attributes(a: number): string {
  const names: string[] = [];
  if (a & 8) names.push('PRIVATE');
  const rest = a & ~8;
  if (rest) names.push(hex(rest));
  return names.length ? names.join('|') : 'shared (0)';
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
