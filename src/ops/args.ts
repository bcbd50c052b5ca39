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

export interface ArgSpec<K extends ArgKind = ArgKind, R extends boolean = boolean> {
  readonly kind: K;
  readonly required: R;
  readonly doc: string;
}

/** One guest access as the typed API takes it (the scenario's `guest:` list entries). */
export type GuestAccessInput =
  | { readonly read: RawValue; readonly size?: RawValue; readonly private?: boolean }
  | { readonly write: RawValue; readonly value: RawValue; readonly size?: RawValue; readonly private?: boolean };

/** What a value of each kind may be written as. */
export type RawFor<K extends ArgKind> = K extends { k: 'guest' }
  ? readonly GuestAccessInput[]
  : K extends { k: 'string' }
    ? string
    : K extends { k: 'flags' }
      ? number | bigint | string | readonly string[]
      : number | bigint | string;

type RequiredKeys<A> = { [P in keyof A]: A[P] extends { required: true } ? P : never }[keyof A];
type OptionalKeys<A> = { [P in keyof A]: A[P] extends { required: true } ? never : P }[keyof A];

/** The argument object an op takes, derived from its ArgSpecs. */
export type ArgsOf<A extends Record<string, ArgSpec>> = { -readonly [P in RequiredKeys<A>]: RawFor<A[P]['kind']> } & {
  -readonly [P in OptionalKeys<A>]?: RawFor<A[P]['kind']>;
};

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

// Builders used by the op table; `required` stays a literal type so the typed API knows which args are optional.
type Builder<K extends ArgKind> = <R extends boolean = true>(doc: string, required?: R) => ArgSpec<K, R>;
const spec =
  <K extends ArgKind>(kind: K): Builder<K> =>
  <R extends boolean = true>(doc: string, required?: R) => ({ kind, required: (required ?? true) as R, doc });
export const u64 = spec({ k: 'u64' } as const);
export const int = spec({ k: 'int' } as const);
export const fd = spec({ k: 'fd' } as const);
export const flags = <R extends boolean = false>(
  g: ConstGroup,
  doc: string,
  required?: R,
): ArgSpec<{ k: 'flags'; g: ConstGroup }, R> => ({
  kind: { k: 'flags', g },
  required: (required ?? false) as R,
  doc,
});
export const enumOf = <R extends boolean = true>(
  g: ConstGroup,
  doc: string,
  required?: R,
): ArgSpec<{ k: 'enum'; g: ConstGroup }, R> => ({
  kind: { k: 'enum', g },
  required: (required ?? true) as R,
  doc,
});
export const str = <R extends boolean = true>(
  doc: string,
  values?: readonly string[],
  required?: R,
): ArgSpec<{ k: 'string'; values?: readonly string[] }, R> => ({
  kind: { k: 'string', values },
  required: (required ?? true) as R,
  doc,
});
export const guest = (doc: string): ArgSpec<{ k: 'guest' }, true> => ({ kind: { k: 'guest' }, required: true, doc });
