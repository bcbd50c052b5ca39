// Argument kinds shared by the scenario language and the typed API. One definition per op argument gives the
// JSON Schema (through zod), the validation and the conversion of raw values to what the model takes.
import { z } from 'zod';
import type { ConstGroup } from '../kernel/uapi/consts.js';

/** A raw argument as written: 0x1000, "0x1000", "LABEL", "LABEL+0x1000", "MACRO", ["MACRO", "MACRO"]. */
export type RawValue = number | bigint | string | readonly string[];

export type ArgKind =
  | { readonly k: 'u64' }
  | { readonly k: 'int' }
  | { readonly k: 'fd' }
  | { readonly k: 'flags'; readonly g: ConstGroup }
  | { readonly k: 'enum'; readonly g: ConstGroup }
  | { readonly k: 'string'; readonly values?: readonly string[] }
  | { readonly k: 'guest' };

export interface ArgSpec {
  readonly kind: ArgKind;
  readonly required: boolean;
  readonly doc: string;
}

export const NUMBER_RE = /^(?:0[xX][0-9a-fA-F]+|[0-9]+)$/;
export const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** LABEL, LABEL+N or LABEL-N */
export const LABEL_EXPR_RE = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?:([+-])\s*(0[xX][0-9a-fA-F]+|[0-9]+))?$/;

const numberish = z.union([z.number().int(), z.bigint(), z.string().regex(NUMBER_RE)]);
const numberOrLabel = z.union([
  z.number().int(),
  z.bigint(),
  z
    .string()
    .regex(
      /^(?:-?0[xX][0-9a-fA-F]+|-?[0-9]+|[A-Za-z_][A-Za-z0-9_]*\s*(?:[+-]\s*(?:0[xX][0-9a-fA-F]+|[0-9]+))?)$/,
      'expected a number, a hex string, or LABEL, LABEL+N, LABEL-N',
    ),
]);

export const guestAccessSchema = z.union([
  z
    .object({
      read: numberOrLabel.describe('guest-physical address to read'),
      size: numberish.optional().describe('1, 2, 4 or 8 bytes (default 1)'),
      private: z.boolean().optional().describe('force a private (true) or shared (false) access'),
    })
    .strict(),
  z
    .object({
      write: numberOrLabel.describe('guest-physical address to write'),
      value: numberOrLabel.describe('value to store'),
      size: numberish.optional().describe('1, 2, 4 or 8 bytes (default 1)'),
      private: z.boolean().optional().describe('force a private (true) or shared (false) access'),
    })
    .strict(),
]);

export function zodFor(kind: ArgKind): z.ZodType {
  switch (kind.k) {
    case 'u64':
    case 'int':
    case 'fd':
      return numberOrLabel;
    case 'flags':
      return z
        .union([numberOrLabel, z.array(z.string())])
        .describe(`${kind.g.name}: a number, a macro name, or a list`);
    case 'enum':
      return z.union([numberOrLabel]).describe(`${kind.g.name}: a number or a macro name`);
    case 'string':
      return kind.values ? z.enum(kind.values as [string, ...string[]]) : z.string();
    case 'guest':
      return z.array(guestAccessSchema);
  }
}

// Builders used by the op table.
const spec =
  (kind: ArgKind) =>
  (doc: string, required = true): ArgSpec => ({ kind, required, doc });
export const u64 = spec({ k: 'u64' });
export const int = spec({ k: 'int' });
export const fd = spec({ k: 'fd' });
export const flags = (g: ConstGroup, doc: string, required = false): ArgSpec => ({
  kind: { k: 'flags', g },
  required,
  doc,
});
export const enumOf = (g: ConstGroup, doc: string, required = true): ArgSpec => ({
  kind: { k: 'enum', g },
  required,
  doc,
});
export const str = (doc: string, values?: readonly string[], required = true): ArgSpec => ({
  kind: { k: 'string', values },
  required,
  doc,
});
export const guest = (doc: string): ArgSpec => ({ kind: { k: 'guest' }, required: true, doc });
