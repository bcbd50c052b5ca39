// The typed API: a model machine with one VMM process, driven op by op. Each call returns the same result object
// a scenario step produces, so VMM developers can write tests against the model in TypeScript.
import { ApiArgumentError, type Diagnostic } from '../diagnostics/errors.js';
import { runAlone } from '../engine/sequential.js';
import type { Ctx } from '../kernel/core/sched.js';
import { createKernel, createProcess, type Kernel } from '../kernel/machine.js';
import type { KernelOptions } from '../kernel/options.js';
import { ArgError, type Resolved, resolveArg } from '../ops/resolve.js';
import type { StepResult } from '../ops/result.js';
import { execStep } from '../ops/step.js';
import { OPS, type OpArgs, type OpName } from '../ops/table.js';
import { stepSchema } from '../scenario/schema.js';
import { formatFtrace, type TaskInfo } from '../trace/ftrace.js';
import { Tracer } from '../trace/tracer.js';

export interface SessionOptions extends Partial<KernelOptions> {
  /** record trace events (see Session.ftrace()) */
  readonly trace?: boolean;
}

/** Per-op convenience methods: session.KVM_CREATE_VM({...}) is session.run('KVM_CREATE_VM', {...}). */
export type SessionOps = { [N in OpName]: (args: OpArgs<N>) => StepResult };

/**
 * A fresh modeled machine. Ops run one after another in the VMM's main thread.
 *
 * @example
 *   const s = new Session({ mm: 'mainline' });
 *   const vm = s.KVM_CREATE_VM({ type: 'KVM_X86_SW_PROTECTED_VM' });
 *   const gmem = s.KVM_CREATE_GUEST_MEMFD({ vm: vm.ret, size: 0x400000 });
 */
class SessionBase {
  readonly kernel: Kernel;
  readonly results: StepResult[] = [];
  private readonly ctx: Ctx;
  private readonly labels = new Map<string, bigint>();

  constructor(opts: SessionOptions = {}) {
    const { trace, ...kopts } = opts;
    this.kernel = createKernel(kopts);
    const proc = createProcess(this.kernel, 'vmm');
    this.ctx = { k: this.kernel, task: proc.threads[0], tr: new Tracer(trace ?? false) };
  }

  /** Runs one op; `as` names its return value for later string arguments such as "gmem+0x1000". */
  run<N extends OpName>(op: N, args: OpArgs<N>, as?: string): StepResult {
    const def = OPS.get(op);
    if (!def) throw new ApiArgumentError({ code: 'GMEM2002', message: `unknown op "${String(op)}"`, path: 'op' });
    const parsed = stepSchema(def).safeParse({ ...args, op });
    if (!parsed.success) {
      throw new ApiArgumentError(
        parsed.error.issues.map(
          (i): Diagnostic => ({
            code: 'GMEM2001',
            path: i.path.map(String).join('.') || op,
            message: `${op}: ${i.code === 'unrecognized_keys' ? `unknown argument(s) ${i.keys.join(', ')}` : `${i.path.map(String).join('.')}: ${i.message}`}`,
          }),
        ),
      );
    }
    const resolved: Record<string, Resolved> = {};
    const problems: Diagnostic[] = [];
    for (const [name, spec] of Object.entries(def.args)) {
      const raw = (args as Record<string, unknown>)[name];
      if (raw === undefined) continue;
      try {
        resolved[name] = resolveArg(spec.kind, raw, this.labels);
      } catch (e) {
        if (!(e instanceof ArgError)) throw e;
        problems.push({
          code: 'GMEM2001',
          path: name,
          message: `${op}.${name}: ${e.problem.message}`,
          hint: e.problem.hint,
        });
      }
    }
    if (problems.length) throw new ApiArgumentError(problems);
    const r = runAlone(this.kernel, execStep(this.ctx, def, resolved, this.results.length));
    this.results.push(r);
    if (as !== undefined) this.labels.set(as, BigInt(r.ret));
    return r;
  }

  /** The trace so far as ftrace text (needs `trace: true`). */
  ftrace(): string {
    const tasks = new Map<number, TaskInfo>();
    for (const p of this.kernel.procs) for (const t of p.threads) tasks.set(t.tid, { comm: t.comm, cpu: 0 });
    return formatFtrace(this.ctx.tr.events, tasks);
  }
}

for (const name of OPS.keys()) {
  Object.defineProperty(SessionBase.prototype, name, {
    value(this: SessionBase, args: never) {
      return this.run(name as OpName, args);
    },
  });
}

export type Session = SessionBase & SessionOps;
/** A modeled machine with one VMM process; every op is also a method (see SessionOps). */
export const Session: new (opts?: SessionOptions) => Session = SessionBase as never;
