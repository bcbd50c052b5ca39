// Stateless dynamic partial-order reduction: source-DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas,
// POPL'14). Each execution replays the schedule prefix from the post-setup snapshot, then runs on; races found in
// it add backtrack points so every Mazurkiewicz trace gets at least one execution.
import type { Point } from '../kernel/core/sched.js';
import { dependent, type Footprint, footprint, parentKey } from './dependence.js';
import type { Chooser, ExecutionResult } from './execution.js';
import type { World } from './world.js';

interface Node {
  readonly enabled: readonly number[];
  readonly pending: ReadonlyArray<Point | null>;
  readonly backtrack: Set<number>;
  readonly done: Set<number>;
  readonly sleep: ReadonlyMap<number, Point>;
  /** preemptions in the schedule before this node */
  readonly preemptions: number;
  /** thread that ran the transition into this node (-1 at the root) */
  readonly prev: number;
  chosen: number;
}

interface Ev {
  readonly thread: number;
  readonly local: number;
  readonly fp: Footprint;
  readonly vc: Int32Array;
}

interface KeyState {
  lastWrite: number;
  reads: number[];
}

interface LockState {
  lastExclusive: number;
  shared: number[];
}

export interface DporOptions {
  readonly preemptionBound?: number;
  /** explore every enabled thread at the first `fullDepth` levels (for sharding), with sleep sets */
  readonly fullDepth?: number;
  /** only prefixes whose index at `fullDepth` is assigned to this shard */
  readonly shard?: { readonly index: number; readonly count: number };
  /** false: no reduction at all, every schedule (to check DPOR against, and to measure what it saves) */
  readonly reduce?: boolean;
}

/**
 * The search state of one DPOR exploration. `nextExecution()` provides a chooser and hooks for the next
 * execution; after it ran, `finish()` computes backtracking and says whether the space is exhausted.
 */
export class Dpor {
  private readonly stack: Node[] = [];
  private replayLen = 0;
  private events: Ev[] = [];
  private keys = new Map<string, KeyState>();
  private kids = new Map<string, Set<string>>();
  private locks = new Map<string, LockState>();
  private lastOf: number[] = [];
  private nThreads: number;
  /** executions cut short because every enabled thread was asleep */
  sleepBlocked = 0;
  private shardCounter = 0;

  constructor(
    nThreads: number,
    private readonly opts: DporOptions = {},
  ) {
    this.nThreads = nThreads;
  }

  /** The chooser and the per-transition hook for the next execution. */
  nextExecution(): { choose: Chooser; beforeStep: (w: World, depth: number, thread: number, point: Point) => void } {
    this.events = [];
    this.keys = new Map();
    this.kids = new Map();
    this.locks = new Map();
    this.lastOf = new Array(this.nThreads).fill(-1);
    const choose: Chooser = (w, depth, enabled) => {
      if (depth < this.stack.length) return this.stack[depth].chosen;
      return this.newNode(w, depth, enabled);
    };
    const beforeStep = (_w: World, depth: number, thread: number, point: Point) => this.record(depth, thread, point);
    return { choose, beforeStep };
  }

  private newNode(w: World, depth: number, enabled: number[]): number | null {
    const parent = depth > 0 ? this.stack[depth - 1] : null;
    const pending = w.threads.map((t) => t.next);
    const sleep = new Map<number, Point>();
    if (parent && this.opts.reduce !== false) {
      const ran = parent.pending[parent.chosen]!;
      const carry = new Map(parent.sleep);
      for (const d of parent.done) carry.set(d, parent.pending[d]!);
      for (const [u, pu] of carry) if (u !== parent.chosen && !dependent(pu, ran)) sleep.set(u, pu);
    }
    const prev = parent ? parent.chosen : -1;
    const preemptions = parent ? parent.preemptions + (isPreemption(parent) ? 1 : 0) : 0;
    const full = this.opts.reduce === false || depth < (this.opts.fullDepth ?? 0);
    const awake = enabled.filter((t) => !sleep.has(t));
    if (awake.length === 0) {
      this.sleepBlocked++;
      return null;
    }
    const first = awake.includes(prev) ? prev : awake[0];
    const node: Node = {
      enabled,
      pending,
      backtrack: new Set(full ? awake : [first]),
      done: new Set(),
      sleep,
      preemptions,
      prev,
      chosen: first,
    };
    this.stack.push(node);
    if (full && this.opts.shard && depth === (this.opts.fullDepth ?? 0) - 1) {
      // assign this node's branches to shards round-robin across all full-depth nodes
      const mine = new Set<number>();
      for (const t of awake) if (this.shardCounter++ % this.opts.shard.count === this.opts.shard.index) mine.add(t);
      for (const t of awake) if (!mine.has(t)) node.done.add(t);
      const pick = awake.find((t) => mine.has(t));
      if (pick === undefined) return null;
      node.chosen = pick;
    }
    return node.chosen;
  }

  /** Vector clocks, race detection and backtrack points for the transition at `depth`. */
  private record(depth: number, thread: number, point: Point): void {
    const fp = footprint(point, true);
    const prevIdx = this.lastOf[thread];
    const base = prevIdx >= 0 ? this.events[prevIdx].vc : new Int32Array(this.nThreads);
    const vc = Int32Array.from(base);
    const local = prevIdx >= 0 ? this.events[prevIdx].local + 1 : 0;
    vc[thread] = local + 1;
    const conflicts = this.conflicting(fp);
    const races: number[] = [];
    for (const j of conflicts) {
      const e = this.events[j];
      for (let q = 0; q < this.nThreads; q++) if (e.vc[q] > vc[q]) vc[q] = e.vc[q];
      if (e.thread === thread) continue;
      if (fp.wait || (fp.lockOp && e.fp.lockOp)) continue;
      if (base[e.thread] <= e.local) races.push(j);
    }
    if (fp.lockOp === 'acquire') {
      // a lock acquisition races with the previous acquisitions it could have overtaken
      const ls = this.locks.get(fp.key);
      if (ls) {
        for (const j of fp.write ? [ls.lastExclusive, ...ls.shared] : [ls.lastExclusive]) {
          if (j < 0) continue;
          const e = this.events[j];
          if (e.thread !== thread && base[e.thread] <= e.local) races.push(j);
        }
      }
    }
    const ev: Ev = { thread, local, fp, vc };
    const i = this.events.length;
    this.events.push(ev);
    this.lastOf[thread] = i;
    this.update(fp, i);
    if (depth >= this.replayLen) for (const j of races) this.backtrackFor(j, i);
  }

  private conflicting(fp: Footprint): number[] {
    const out: number[] = [];
    const own = this.keys.get(fp.key);
    if (own) {
      if (own.lastWrite >= 0) out.push(own.lastWrite);
      if (fp.write) out.push(...own.reads);
    }
    const parent = parentKey(fp.key);
    if (parent) {
      const p = this.keys.get(parent);
      if (p) {
        if (p.lastWrite >= 0) out.push(p.lastWrite);
        if (fp.write) out.push(...p.reads);
      }
    }
    const kids = this.kids.get(fp.key);
    if (kids) {
      for (const c of kids) {
        const ks = this.keys.get(c)!;
        if (ks.lastWrite >= 0) out.push(ks.lastWrite);
        if (fp.write) out.push(...ks.reads);
      }
    }
    return out;
  }

  private update(fp: Footprint, i: number): void {
    let ks = this.keys.get(fp.key);
    if (!ks) {
      ks = { lastWrite: -1, reads: [] };
      this.keys.set(fp.key, ks);
      const parent = parentKey(fp.key);
      if (parent) {
        const set = this.kids.get(parent) ?? new Set<string>();
        this.kids.set(parent, set);
        set.add(fp.key);
      }
    }
    if (fp.write) {
      ks.lastWrite = i;
      ks.reads = [];
      // a write to a whole object orders everything done to its parts
      const kids = this.kids.get(fp.key);
      if (kids) for (const c of kids) this.keys.set(c, { lastWrite: -1, reads: [] });
    } else {
      ks.reads.push(i);
    }
    if (fp.lockOp === 'acquire') {
      const ls = this.locks.get(fp.key) ?? { lastExclusive: -1, shared: [] };
      this.locks.set(fp.key, ls);
      if (fp.write) {
        ls.lastExclusive = i;
        ls.shared = [];
      } else {
        ls.shared.push(i);
      }
    }
  }

  /** Source-DPOR: make sure some initial of notdep(e, E).e' is explored from the state before e. */
  private backtrackFor(j: number, i: number): void {
    const node = this.stack[j];
    if (!node) return;
    const e = this.events[j];
    const hbAfterE = (u: Ev) => u.vc[e.thread] > e.local;
    const v: Ev[] = [];
    for (let k = j + 1; k < i; k++) if (!hbAfterE(this.events[k])) v.push(this.events[k]);
    v.push(this.events[i]);
    const initials = new Set<number>();
    for (let a = 0; a < v.length; a++) {
      const u = v[a];
      let initial = true;
      for (let b = 0; b < a && initial; b++) {
        const wv = v[b];
        if (wv.thread === u.thread || u.vc[wv.thread] > wv.local) initial = false;
      }
      if (initial) initials.add(u.thread);
    }
    for (const t of initials) if (node.backtrack.has(t)) return;
    const want = initials.has(this.events[i].thread) ? this.events[i].thread : Math.min(...initials);
    if (node.enabled.includes(want)) node.backtrack.add(want);
    else for (const t of node.enabled) node.backtrack.add(t);
  }

  /** After an execution: move to the next unexplored branch. Returns false when the space is exhausted. */
  finish(_r: ExecutionResult): boolean {
    const bound = this.opts.preemptionBound;
    while (this.stack.length > 0) {
      const top = this.stack[this.stack.length - 1];
      top.done.add(top.chosen);
      let next: number | undefined;
      for (const t of top.backtrack) {
        if (top.done.has(t) || top.sleep.has(t)) continue;
        if (
          bound !== undefined &&
          top.preemptions + (t !== top.prev && top.prev >= 0 && top.enabled.includes(top.prev) ? 1 : 0) > bound
        ) {
          continue;
        }
        next = t;
        break;
      }
      if (next !== undefined) {
        top.chosen = next;
        this.replayLen = this.stack.length - 1;
        return true;
      }
      this.stack.pop();
    }
    return false;
  }

  /** Serialisable position in the search, for checkpoints. */
  get depth(): number {
    return this.stack.length;
  }
}

function isPreemption(n: Node): boolean {
  return n.prev >= 0 && n.chosen !== n.prev && n.enabled.includes(n.prev);
}
