// Runs one op the way a userspace thread would: the op's syscalls, then the return to user mode, and collects
// the step result (signal delivered, kernel log lines printed).
import { KernelPanic } from '../kernel/core/printk.js';
import type { Ctx, KGen } from '../kernel/core/sched.js';
import { exit_to_user_mode } from '../kernel/entry.js';
import { trace_gmemsim } from '../trace/points.js';
import { ArgError, type Labels, type Resolved, resolveArg } from './resolve.js';
import { type StepResult, signalResult } from './result.js';
import { ScenarioRuntimeError } from './runtime-error.js';
import type { OpDef } from './table.js';

/** Converts raw arguments with the labels known now. */
export function resolveArgs(
  def: OpDef,
  raw: Readonly<Record<string, unknown>>,
  labels: Labels,
): Record<string, Resolved> {
  const out: Record<string, Resolved> = {};
  for (const [name, spec] of Object.entries(def.args)) {
    if (raw[name] === undefined) continue;
    try {
      out[name] = resolveArg(spec.kind, raw[name], labels);
    } catch (e) {
      if (e instanceof ArgError) throw new ScenarioRuntimeError(`${def.name}.${name}: ${e.problem.message}`);
      throw e;
    }
  }
  return out;
}

/** Executes one step in ctx.task; a kernel panic is reported in the result, not thrown. */
export function* execStep(ctx: Ctx, def: OpDef, args: Record<string, Resolved>, index: number): KGen<StepResult> {
  const logStart = ctx.k.log.length;
  trace_gmemsim(ctx, 'step_begin', `${index} ${def.name}`, { step: index, op: def.name });
  let result: StepResult;
  try {
    const outcome = yield* def.exec(ctx, args);
    result = { step: index, op: def.name, ...outcome };
    const signals = yield* exit_to_user_mode(ctx);
    if (signals.length > 0) result.signal = signalResult(signals[0]);
  } catch (e) {
    if (!(e instanceof KernelPanic)) throw e;
    result = { step: index, op: def.name, ret: -1, errno: null, panic: e.reason };
  }
  const lines = ctx.k.log.slice(logStart).filter((l) => l.tid === ctx.task.tid);
  if (lines.length > 0) result.dmesg = lines.map((l) => l.text);
  const live = ctx.k.livelocks.find((l) => l.tid === ctx.task.tid && !l.reported);
  if (live) {
    live.reported = true;
    result.livelock = `vCPU ${live.vcpu} re-executed guest access ${live.pc} (gpa 0x${live.gpa.toString(16)}) more than the model's bound`;
  }
  trace_gmemsim(
    ctx,
    'step_end',
    `${index} ${def.name} ret ${String(result.ret)}${result.errno ? ` ${result.errno}` : ''}`,
    {
      step: index,
      op: def.name,
    },
  );
  return result;
}
