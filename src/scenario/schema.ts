// The scenario contract as zod schemas: the source of the JSON Schema shipped for editors, and the structural
// validator. Each op's arguments come from the op table.
import { z } from 'zod';
import { ERROR_HANDLERS, KERNEL_VERSIONS, MM_BEHAVIOURS } from '../kernel/options.js';
import { zodFor } from '../ops/args.js';
import { OPS, type OpDef } from '../ops/table.js';

/** An expected number: decimal or hex (either sign), or LABEL, LABEL+N, LABEL-N (resolved when compared). */
const EXPECTED_NUMBER_RE =
  /^\s*(?:-?(?:0[xX][0-9a-fA-F]+|[0-9]+)|[A-Za-z_][A-Za-z0-9_]*\s*(?:[+-]\s*(?:0[xX][0-9a-fA-F]+|[0-9]+))?)\s*$/;
const num = z.union([
  z.number().int(),
  z.bigint(),
  z.string().regex(EXPECTED_NUMBER_RE, 'a number, a hex string, or LABEL, LABEL+N, LABEL-N'),
]);
export const LABEL_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const expectSchema = z
  .object({
    ret: num.describe('return value; a number, hex string or label'),
    errno: z.union([z.string(), z.null()]).describe('symbolic errno, or null for success'),
    exit_reason: z.union([z.string(), z.number(), z.null()]).describe('KVM_EXIT_* name'),
    memory_fault: z
      .union([
        z
          .object({
            flags: z.union([z.array(z.string()), z.string(), z.number()]).optional(),
            gpa: num.optional(),
            size: num.optional(),
          })
          .strict(),
        z.null(),
      ])
      .describe('kvm_run.memory_fault; flags compare as a set'),
    signal: z
      .union([
        z
          .object({
            signo: z.string().optional(),
            code: z.string().optional(),
            addr: num.optional(),
            addr_lsb: num.optional(),
          })
          .strict(),
        z.null(),
      ])
      .describe('the signal delivered during the step, or null for none'),
    value: num.describe('value of a load'),
    values: z.array(num).describe('values read by a KVM_RUN guest program'),
    stat: z
      .object({ st_size: num.optional(), st_blksize: num.optional(), st_ino: num.optional(), st_mode: num.optional() })
      .strict(),
    dmesg: z.array(z.string()).describe('substrings that must appear, in order, in the kernel log of the step'),
    panic: z.union([z.string(), z.null()]),
    livelock: z.union([z.string(), z.null()]),
  })
  .partial()
  .strict();

export function stepSchema(def: OpDef): z.ZodObject {
  const shape: Record<string, z.ZodType> = {
    op: z.literal(def.name),
    as: z.string().regex(LABEL_RE, 'a label is an identifier').optional().describe("name for the step's return value"),
    expect: expectSchema.optional(),
  };
  for (const [name, spec] of Object.entries(def.args)) {
    const s = zodFor(spec.kind).describe(spec.doc);
    shape[name] = spec.required ? s : s.optional();
  }
  return z.object(shape).strict().describe(def.doc);
}

const stepSchemas = new WeakMap<OpDef, z.ZodObject>();

/** stepSchema(def), built once per op: zod compiles a schema on its first parse, which dominated loading. */
export function cachedStepSchema(def: OpDef): z.ZodObject {
  let s = stepSchemas.get(def);
  if (!s) {
    s = stepSchema(def);
    stepSchemas.set(def, s);
  }
  return s;
}

export const optionsSchema = z
  .object({
    mm: z
      .enum(MM_BEHAVIOURS as [string, ...string[]])
      .describe('memory_failure behaviour: mainline or the MF_DELAYED fix series'),
    error_handler: z.enum(ERROR_HANDLERS as [string, ...string[]]).describe('kvm_gmem_error_folio variant'),
    kernel: z.enum(KERNEL_VERSIONS as [string, ...string[]]).describe('kernel version whose uAPI details apply'),
    sw_protected_vm: z.boolean().describe('CONFIG_KVM_SW_PROTECTED_VM'),
  })
  .partial()
  .strict();

export function scenarioSchema(): z.ZodObject {
  const steps = z.array(
    z.discriminatedUnion('op', [...OPS.values()].map(stepSchema) as unknown as [z.ZodObject, ...z.ZodObject[]]),
  );
  return z
    .object({
      name: z.string().optional(),
      description: z.string().optional(),
      options: optionsSchema.optional(),
      steps,
      threads: z.record(z.string(), steps).optional().describe('named step lists run concurrently after steps'),
      after: steps.optional().describe('steps run once every thread has ended'),
      outcomes: z
        .array(z.record(z.string(), z.unknown()))
        .optional()
        .describe('allowed combinations of thread results'),
    })
    .strict();
}

/** The JSON Schema for editors (schema/scenario.schema.json is generated from this). */
export function scenarioJsonSchema(): unknown {
  return z.toJSONSchema(scenarioSchema(), { unrepresentable: 'any', io: 'input', reused: 'ref' });
}
