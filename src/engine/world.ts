// One execution of a program: a clone of the post-setup kernel and a generator per scenario thread. The caller
// picks which thread takes its next transition; the world runs it and reports what that transition was.
import { lockHolders } from '../kernel/core/locking.js';
import { describePoint, type KGen, type Point } from '../kernel/core/sched.js';
import type { Kernel } from '../kernel/machine.js';
import { findTask } from '../kernel/machine.js';
import type { Task } from '../kernel/task/task.js';
import type { StepResult } from '../ops/result.js';
import { execStep, resolveArgs } from '../ops/step.js';
import { Tracer } from '../trace/tracer.js';
import { isEnabled } from './enabled.js';
import type { Program, ProgramThread } from './program.js';

export interface ThreadRt {
  readonly spec: ProgramThread;
  readonly task: Task;
  readonly gen: KGen<void>;
  /** what the thread does next; null when it has finished */
  next: Point | null;
  readonly results: StepResult[];
  readonly labels: Map<string, bigint>;
  /** transitions taken */
  taken: number;
}

/** The thread body: each step starts with a thread-local scheduling point, so a step begins only when scheduled. */
function* threadBody(t: ThreadRt, k: Kernel, tr: Tracer): KGen<void> {
  const ctx = { k, task: t.task, tr };
  for (const spec of t.spec.steps) {
    yield { t: 'access', obj: `thread:${t.task.tid}`, write: true };
    const r = yield* execStep(ctx, spec.op, resolveArgs(spec.op, spec.raw, t.labels), spec.index);
    r.thread = t.spec.name;
    t.results.push(r);
    if (spec.as !== undefined) t.labels.set(spec.as, BigInt(r.ret));
  }
}

export interface WaitEdge {
  readonly waiter: string;
  readonly on: string;
  readonly holders: string[];
}

export class World {
  readonly k: Kernel;
  readonly threads: ThreadRt[];
  readonly tr: Tracer;

  constructor(
    readonly program: Program,
    trace: boolean | ((k: Kernel) => Tracer) = false,
  ) {
    this.k = structuredClone(program.snapshot);
    this.tr = typeof trace === 'function' ? trace(this.k) : new Tracer(trace);
    this.threads = program.threads.map((spec) => {
      const task = findTask(this.k, spec.tid)!;
      const rt = {
        spec,
        task,
        next: null,
        results: [],
        labels: new Map(program.labels),
        taken: 0,
      } as unknown as ThreadRt;
      (rt as { gen: KGen<void> }).gen = threadBody(rt, this.k, this.tr);
      const first = rt.gen.next();
      rt.next = first.done ? null : first.value;
      return rt;
    });
  }

  enabled(i: number): boolean {
    const n = this.threads[i].next;
    return n !== null && isEnabled(this.k, n);
  }

  enabledThreads(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.threads.length; i++) if (this.enabled(i)) out.push(i);
    return out;
  }

  allDone(): boolean {
    return this.threads.every((t) => t.next === null);
  }

  /** Runs thread i's next transition; returns the point it performed. */
  step(i: number): Point {
    const t = this.threads[i];
    const p = t.next!;
    const r = t.gen.next();
    t.next = r.done ? null : r.value;
    t.taken++;
    return p;
  }

  /** For a deadlock report: what each blocked thread waits for, and who holds it. */
  waitEdges(): WaitEdge[] {
    const name = (tid: number) => this.threads.find((t) => t.task.tid === tid)?.spec.name ?? `tid ${tid}`;
    const out: WaitEdge[] = [];
    for (const t of this.threads) {
      const p = t.next;
      if (!p || isEnabled(this.k, p)) continue;
      if (p.t === 'acquire')
        out.push({ waiter: t.spec.name, on: describePoint(p), holders: lockHolders(p.lock).map(name) });
      else if (p.t === 'wait') out.push({ waiter: t.spec.name, on: p.what, holders: p.blockers(this.k).map(name) });
    }
    return out;
  }

  threadName(tid: number): string | undefined {
    return this.threads.find((t) => t.task.tid === tid)?.spec.name;
  }
}
