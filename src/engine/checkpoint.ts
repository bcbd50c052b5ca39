// Explorer checkpoints: the search position and everything found so far, as JSON, written atomically (write,
// fsync, rename, fsync the folder) so a kill at any moment leaves the old checkpoint or the new one, never a torn
// file. Read back through a schema: a checkpoint is input like any other.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { GmemsimError } from '../diagnostics/errors.js';
import type { DporCheckpoint } from './dpor.js';
import type { Best, OutcomeReport, Strategy } from './explore.js';

export const CHECKPOINT_FORMAT = 'gmemsim-checkpoint/1';

export interface ExploreCheckpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  /** programHash(): the scenario and kernel options it belongs to */
  readonly program: string;
  readonly strategy: Strategy;
  readonly seed: number;
  readonly executions: number;
  readonly transitions: number;
  readonly seconds: number;
  readonly outcomes: readonly OutcomeReport[];
  readonly best: readonly Best[];
  readonly traces?: readonly string[];
  readonly dpor?: DporCheckpoint;
  readonly rng?: readonly number[];
  readonly pctSteps?: number;
}

const count = z.number().int().nonnegative();
const thread = z
  .number()
  .int()
  .min(-1)
  .max(1 << 16);
const checkpointSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  program: z.string().regex(/^[0-9a-f]{8}$/),
  strategy: z.enum(['dfs', 'naive', 'random', 'pct']),
  seed: z.number().int(),
  executions: count,
  transitions: count,
  seconds: z.number().nonnegative(),
  outcomes: z.array(z.object({ threads: z.record(z.string(), z.array(z.string())), count })),
  best: z.array(
    z.object({
      v: z.object({ code: z.string().regex(/^GMEM4\d{3}$/), message: z.string(), thread: z.string().optional() }),
      schedule: z.array(thread),
      preemptions: count,
      occurrences: count,
    }),
  ),
  traces: z.array(z.string()).optional(),
  dpor: z
    .object({
      floor: z.number().int().min(-1).optional(),
      replayLen: count,
      sleepBlocked: count,
      shardCounter: count,
      stack: z.array(
        z.object({
          enabled: z.array(thread),
          backtrack: z.array(thread),
          done: z.array(thread),
          sleep: z.array(thread),
          preemptions: count,
          prev: thread,
          chosen: thread,
          siblings: z.array(thread).optional(),
        }),
      ),
    })
    .optional(),
  rng: z.array(z.number().int().nonnegative()).length(4).optional(),
  pctSteps: count.optional(),
});

/** Replaces `file` with the checkpoint, atomically. */
export function writeCheckpoint(file: string, cp: ExploreCheckpoint): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, `${JSON.stringify(cp)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch (e) {
    throw new GmemsimError({
      code: 'GMEM5003',
      message: `cannot write checkpoint ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    });
  }
}

export function readCheckpoint(file: string): ExploreCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = e instanceof SyntaxError ? 'not JSON' : ((e as NodeJS.ErrnoException).code ?? String(e));
    throw new GmemsimError({ code: 'GMEM5012', message: `cannot read checkpoint ${file}: ${why}` });
  }
  const parsed = checkpointSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GmemsimError({
      code: 'GMEM5012',
      message: `${file} is not a gmemsim checkpoint: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    });
  }
  return parsed.data as ExploreCheckpoint;
}
