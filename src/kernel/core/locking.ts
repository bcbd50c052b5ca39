// Kernel locks as plain data (so kernel state can be cloned), and the lock operations named after the
// kernel's. Each operation is a scheduling point; acquisition blocks until the lock is free.
import { trace_lock_acquire, trace_lock_release } from '../../trace/points.js';
import type { Ctx, KGen, WaitPoint } from './sched.js';

export type LockKind = 'mutex' | 'rwsem' | 'rwlock' | 'spinlock' | 'bitlock';

export interface Lock {
  readonly id: string;
  readonly name: string;
  readonly kind: LockKind;
  /** tid of the exclusive holder, 0 if none */
  owner: number;
  /** tids holding it shared (one entry per acquisition) */
  readers: number[];
}

export function newLock(id: string, name: string, kind: LockKind): Lock {
  return { id, name, kind, owner: 0, readers: [] };
}

export function lockAvailable(l: Lock, shared: boolean): boolean {
  return l.owner === 0 && (shared || l.readers.length === 0);
}

export function lockHolders(l: Lock): number[] {
  return l.owner ? [l.owner] : [...new Set(l.readers)];
}

function* acquire(ctx: Ctx, l: Lock, shared: boolean): KGen<void> {
  yield { t: 'acquire', lock: l, shared };
  if (!lockAvailable(l, shared)) throw new Error(`runner resumed ${ctx.task.comm} on busy ${l.name}`);
  if (shared) l.readers.push(ctx.task.tid);
  else l.owner = ctx.task.tid;
  trace_lock_acquire(ctx, l, shared);
}

function* release(ctx: Ctx, l: Lock, shared: boolean): KGen<void> {
  yield { t: 'release', lock: l, shared };
  if (shared) {
    const i = l.readers.indexOf(ctx.task.tid);
    if (i < 0) throw new Error(`${ctx.task.comm} releases ${l.name} it does not hold shared`);
    l.readers.splice(i, 1);
  } else {
    if (l.owner !== ctx.task.tid) throw new Error(`${ctx.task.comm} releases ${l.name} it does not own`);
    l.owner = 0;
  }
  trace_lock_release(ctx, l, shared);
}

/** Non-blocking attempt; a scheduling point because it reads the lock word. */
function* tryAcquire(ctx: Ctx, l: Lock): KGen<boolean> {
  yield { t: 'access', obj: l.id, write: true };
  if (!lockAvailable(l, false)) return false;
  l.owner = ctx.task.tid;
  trace_lock_acquire(ctx, l, false);
  return true;
}

// kernel/locking/mutex.c
export const mutex_lock = (ctx: Ctx, l: Lock) => acquire(ctx, l, false);
export const mutex_unlock = (ctx: Ctx, l: Lock) => release(ctx, l, false);
// kernel/locking/rwsem.c
export const down_read = (ctx: Ctx, l: Lock) => acquire(ctx, l, true);
export const up_read = (ctx: Ctx, l: Lock) => release(ctx, l, true);
export const down_write = (ctx: Ctx, l: Lock) => acquire(ctx, l, false);
export const up_write = (ctx: Ctx, l: Lock) => release(ctx, l, false);
// kernel/locking/spinlock.c (rwlock_t: read_lock/write_lock)
export const read_lock = (ctx: Ctx, l: Lock) => acquire(ctx, l, true);
export const read_unlock = (ctx: Ctx, l: Lock) => release(ctx, l, true);
export const write_lock = (ctx: Ctx, l: Lock) => acquire(ctx, l, false);
export const write_unlock = (ctx: Ctx, l: Lock) => release(ctx, l, false);
export const spin_lock = (ctx: Ctx, l: Lock) => acquire(ctx, l, false);
export const spin_unlock = (ctx: Ctx, l: Lock) => release(ctx, l, false);
/** PG_locked bit lock (mm/filemap.c folio_lock / folio_unlock / folio_trylock) */
export const bitlock_lock = (ctx: Ctx, l: Lock) => acquire(ctx, l, false);
export const bitlock_unlock = (ctx: Ctx, l: Lock) => release(ctx, l, false);
export const bitlock_trylock = (ctx: Ctx, l: Lock) => tryAcquire(ctx, l);

// ---- SRCU (kernel/rcu/srcutree.c): readers never block; synchronize_srcu waits for readers that began before it.

export interface Srcu {
  readonly id: string;
  readonly name: string;
  nextSeq: number;
  /** active read-side critical sections: seq -> tid */
  active: Map<number, number>;
}

export function newSrcu(id: string, name: string): Srcu {
  return { id, name, nextSeq: 1, active: new Map() };
}

export function* srcu_read_lock(ctx: Ctx, s: Srcu): KGen<number> {
  yield { t: 'access', obj: s.id, write: false };
  const idx = s.nextSeq++;
  s.active.set(idx, ctx.task.tid);
  return idx;
}

export function* srcu_read_unlock(_ctx: Ctx, s: Srcu, idx: number): KGen<void> {
  yield { t: 'access', obj: s.id, write: false };
  s.active.delete(idx);
}

export function* synchronize_srcu(_ctx: Ctx, s: Srcu): KGen<void> {
  yield { t: 'access', obj: s.id, write: true };
  const before = [...s.active.keys()];
  if (before.length === 0) return;
  const w: WaitPoint = {
    t: 'wait',
    obj: s.id,
    what: `synchronize_srcu(${s.name}) waiting for ${before.length} reader(s)`,
    ready: () => before.every((i) => !s.active.has(i)),
    blockers: () => before.filter((i) => s.active.has(i)).map((i) => s.active.get(i)!),
  };
  yield w;
}
