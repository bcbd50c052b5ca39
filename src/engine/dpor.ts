// Stateless dynamic partial-order reduction: source-DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas,
// POPL'14). Each execution replays the schedule prefix from the post-setup snapshot, then runs on; races found in
// it add backtrack points so every Mazurkiewicz trace gets at least one execution.
import { createHash } from 'node:crypto';
import type { Point } from '../kernel/core/sched.js';
import { conflict, type Footprint, footprint, parentKey } from './dependence.js';
import type { Chooser, ExecutionResult } from './execution.js';
import type { World } from './world.js';

interface Node {
  readonly enabled: readonly number[];
  /** each thread's next point; empty for a node restored from a checkpoint until the next replay reaches it */
  pending: ReadonlyArray<Point | null>;
  readonly backtrack: Set<number>;
  readonly done: Set<number>;
  readonly sleep: Map<number, Point | null>;
  /** preemptions in the schedule before this node */
  readonly preemptions: number;
  /** thread that ran the transition into this node (-1 at the root) */
  readonly prev: number;
  chosen: number;
  /** at the level where shards split: every branch in the sequential search's order */
  siblings?: readonly number[];
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

/** A Dpor's search position as plain data. */
export interface DporCheckpoint {
  /** nodes at or above this index belong to other searches too (parallel exploration); -1 or absent: none */
  readonly floor?: number;
  readonly replayLen: number;
  readonly sleepBlocked: number;
  readonly shardCounter: number;
  readonly stack: ReadonlyArray<{
    readonly enabled: number[];
    readonly backtrack: number[];
    readonly done: number[];
    readonly sleep: number[];
    readonly preemptions: number;
    readonly prev: number;
    readonly chosen: number;
    readonly siblings?: number[];
  }>;
}

/**
 * A backtrack point a search found for a node it shares with other searches (at or above its floor): the node,
 * by the threads chosen on the way to it, and what backtrackFor() would have added there.
 */
export interface SharedBacktrack {
  readonly prefix: readonly number[];
  readonly initials: readonly number[];
  readonly want: number;
  readonly enabled: readonly number[];
}

/** A node handed over to the parallel coordinator, with the branches given away. */
export interface CarvedNode {
  /** the search's stack from the root down to and including the node */
  readonly stack: DporCheckpoint['stack'];
  /** every branch the node has, in the order they count as explored */
  readonly assigned: readonly number[];
  /** the branches given away (the last entries of `assigned`) */
  readonly given: readonly number[];
}

export interface DporOptions {
  readonly preemptionBound?: number;
  /** receives the backtrack points of shared nodes instead of adding them (parallel exploration) */
  readonly onShared?: (b: SharedBacktrack) => void;
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
  /** transitions at the start of this execution whose events are kept from the last one */
  private known = 0;
  private nThreads: number;
  /** executions cut short because every enabled thread was asleep */
  sleepBlocked = 0;
  private shardCounter = 0;
  /** stack index of the deepest node shared with other searches; the search ends when it returns there */
  private floor = -1;

  constructor(
    nThreads: number,
    private readonly opts: DporOptions = {},
  ) {
    this.nThreads = nThreads;
  }

  /** The chooser and the per-transition hook for the next execution. */
  nextExecution(): { choose: Chooser; beforeStep: (w: World, depth: number, thread: number, point: Point) => void } {
    // The first replayLen transitions repeat the last execution's: keep their events (vector clocks included) and
    // rebuild the per-key indexes from them, instead of recomputing every race of the prefix.
    this.keys = new Map();
    this.kids = new Map();
    this.locks = new Map();
    this.lastOf = new Array(this.nThreads).fill(-1);
    this.known = this.events.length >= this.replayLen ? this.replayLen : 0;
    this.events.length = this.known;
    for (let i = 0; i < this.known; i++) {
      this.update(this.events[i].fp, i);
      this.lastOf[this.events[i].thread] = i;
    }
    const choose: Chooser = (w, depth, enabled) => {
      if (depth < this.stack.length) {
        const node = this.stack[depth];
        if (node.pending.length === 0) {
          // restored: the points are not serialisable, the replay recreates them
          node.pending = w.threads.map((t) => t.next);
          for (const u of node.sleep.keys()) node.sleep.set(u, node.pending[u]);
        }
        return node.chosen;
      }
      return this.newNode(w, depth, enabled);
    };
    const beforeStep = (_w: World, depth: number, thread: number, point: Point) => this.record(depth, thread, point);
    return { choose, beforeStep };
  }

  private newNode(w: World, depth: number, enabled: number[]): number | null {
    const parent = depth > 0 ? this.stack[depth - 1] : null;
    const pending = w.threads.map((t) => t.next);
    const sleep = new Map<number, Point | null>();
    if (parent && this.opts.reduce !== false) {
      // Exact footprints: the one `ran` had when it ran, and each sleeper's as of now. A sleeper's footprint can
      // only have been changed by `ran` if the two are dependent (see AccessPoint.wholeIf), and then it wakes anyway.
      const ran = this.events[depth - 1].fp;
      const carry = new Map(parent.sleep);
      for (const d of parent.done) carry.set(d, parent.pending[d]!);
      for (const [u, pu] of carry) if (u !== parent.chosen && !conflict(footprint(pu!, true), ran)) sleep.set(u, pu);
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
      // Assign this node's branches to shards round-robin across all full-depth nodes. Each shard explores its
      // branches as the sequential search would: every earlier sibling (wherever it is explored) counts as done,
      // so its sleep-set consequences are the same, and no later sibling does.
      const mine: number[] = [];
      for (const t of awake) if (this.shardCounter++ % this.opts.shard.count === this.opts.shard.index) mine.push(t);
      node.backtrack.clear();
      for (const t of mine) node.backtrack.add(t);
      node.siblings = awake;
      if (mine.length === 0) return null;
      node.chosen = mine[0];
      for (const u of awake) {
        if (u === node.chosen) break;
        node.done.add(u);
      }
    }
    return node.chosen;
  }

  /** Vector clocks, race detection and backtrack points for the transition at `depth`. */
  private record(depth: number, thread: number, point: Point): void {
    if (depth < this.known) return;
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
    // where shards split, every branch is already some shard's: adding one here would explore it twice
    if (!node || node.siblings) return;
    const shared = j <= this.floor;
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
    if (shared) {
      const prefix = this.stack.slice(0, j).map((n) => n.chosen);
      this.opts.onShared?.({ prefix, initials: [...initials], want, enabled: node.enabled });
      return;
    }
    if (node.enabled.includes(want)) node.backtrack.add(want);
    else for (const t of node.enabled) node.backtrack.add(t);
  }

  /** After an execution: move to the next unexplored branch. Returns false when the space is exhausted. */
  finish(_r: ExecutionResult): boolean {
    const bound = this.opts.preemptionBound;
    while (this.stack.length - 1 > this.floor) {
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
        if (top.siblings) {
          for (const u of top.siblings) {
            if (u === next) break;
            top.done.add(u);
          }
        }
        top.chosen = next;
        this.replayLen = this.stack.length - 1;
        return true;
      }
      this.stack.pop();
    }
    return false;
  }

  /**
   * The Mazurkiewicz trace of the execution just run, as a hash: each thread's transitions with their vector
   * clocks, in thread order, which is the same for every linearisation of one partial order.
   */
  traceKey(): string {
    const h = createHash('sha1');
    const byThread: Ev[][] = Array.from({ length: this.nThreads }, () => []);
    for (const e of this.events) byThread[e.thread].push(e);
    for (const evs of byThread) {
      for (const e of evs) h.update(`${e.fp.key}${e.fp.write ? '!' : '?'}${e.vc.join(',')};`);
      h.update('|');
    }
    return h.digest('base64');
  }

  /**
   * Gives away the unexplored branches of the shallowest node that has any, for other searches to take: that
   * node and the ones above it become shared (this search reports their backtrack points and ends when it
   * returns to the node). Returns the newly shared nodes, shallowest first; empty when no node has a branch to give.
   */
  carve(): CarvedNode[] {
    for (let m = this.floor + 1; m < this.stack.length; m++) {
      const n = this.stack[m];
      const given = [...n.backtrack].filter((t) => !n.done.has(t) && !n.sleep.has(t) && t !== n.chosen);
      if (given.length === 0) continue;
      const stack = this.checkpoint().stack;
      const out: CarvedNode[] = [];
      for (let k = this.floor + 1; k <= m; k++) {
        const node = this.stack[k];
        const assigned = [...node.done].filter((t) => t !== node.chosen && !given.includes(t));
        assigned.push(node.chosen);
        if (k === m) assigned.push(...given);
        for (const t of node.backtrack) if (!assigned.includes(t)) assigned.push(t);
        out.push({ stack: stack.slice(0, k + 1), assigned, given: k === m ? given : [] });
      }
      for (const t of given) n.done.add(t); // other searches' now
      this.floor = m;
      return out;
    }
    return [];
  }

  /** The search position (everything but the points, which a replay recreates). */
  checkpoint(): DporCheckpoint {
    return {
      ...(this.floor >= 0 ? { floor: this.floor } : {}),
      replayLen: this.replayLen,
      sleepBlocked: this.sleepBlocked,
      shardCounter: this.shardCounter,
      stack: this.stack.map((n) => ({
        enabled: [...n.enabled],
        backtrack: [...n.backtrack],
        done: [...n.done],
        sleep: [...n.sleep.keys()],
        preemptions: n.preemptions,
        prev: n.prev,
        chosen: n.chosen,
        ...(n.siblings ? { siblings: [...n.siblings] } : {}),
      })),
    };
  }

  static restore(nThreads: number, opts: DporOptions, cp: DporCheckpoint): Dpor {
    const d = new Dpor(nThreads, opts);
    d.replayLen = cp.replayLen;
    d.floor = cp.floor ?? -1;
    d.sleepBlocked = cp.sleepBlocked;
    d.shardCounter = cp.shardCounter;
    for (const n of cp.stack) {
      d.stack.push({
        enabled: n.enabled,
        pending: [],
        backtrack: new Set(n.backtrack),
        done: new Set(n.done),
        sleep: new Map(n.sleep.map((u) => [u, null])),
        preemptions: n.preemptions,
        prev: n.prev,
        chosen: n.chosen,
        ...(n.siblings ? { siblings: n.siblings } : {}),
      });
    }
    return d;
  }

  /** Transitions at the start of the next execution that repeat a checked prefix (their checks can be skipped). */
  get replayed(): number {
    return this.replayLen;
  }

  /** Serialisable position in the search, for checkpoints. */
  get depth(): number {
    return this.stack.length;
  }
}

function isPreemption(n: Node): boolean {
  return n.prev >= 0 && n.chosen !== n.prev && n.enabled.includes(n.prev);
}
