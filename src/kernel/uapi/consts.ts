// A named group of kernel macros (an enum or a flag set), with lookups in both directions.
export interface ConstGroup {
  readonly name: string;
  /** true when values are bits that may be OR'ed together */
  readonly flags: boolean;
  readonly byName: ReadonlyMap<string, bigint>;
  nameOf(value: bigint | number): string | undefined;
  /** Names of every bit set in value, plus a hex remainder for unknown bits. */
  flagNames(value: bigint | number): string[];
}

export function constGroup(name: string, flags: boolean, table: Record<string, number | bigint>): ConstGroup {
  const byName = new Map<string, bigint>();
  const byValue = new Map<bigint, string>();
  for (const [k, v] of Object.entries(table)) {
    const b = BigInt(v);
    byName.set(k, b);
    if (!byValue.has(b)) byValue.set(b, k);
  }
  return {
    name,
    flags,
    byName,
    nameOf: (value) => byValue.get(BigInt(value)),
    flagNames(value) {
      let rest = BigInt(value);
      const out: string[] = [];
      for (const [k, v] of byName) {
        if (v !== 0n && (rest & v) === v) {
          out.push(k);
          rest &= ~v;
        }
      }
      if (rest !== 0n) out.push(`0x${rest.toString(16)}`);
      return out;
    },
  };
}
