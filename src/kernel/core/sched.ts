// The contract between modeled kernel paths and whatever runs them (the sequential runner or the explorer).
//
// Every kernel path is a generator. Before it touches state another thread can observe, or operates on a lock,
// it yields a Point describing that next action. The runner resumes the thread only when the action is enabled
// (e.g. the lock is free), so the code between two yields runs atomically. The explorer uses the points'
// objects to decide which transitions are dependent.

import type { Tracer } from '../../trace/tracer.js';
import type { Kernel } from '../machine.js';
import type { Task } from '../task/task.js';
import type { Lock } from './locking.js';

export type Point = AcquirePoint | ReleasePoint | AccessPoint | WaitPoint;

export interface AcquirePoint {
  readonly t: 'acquire';
  readonly lock: Lock;
  readonly shared: boolean;
}
export interface ReleasePoint {
  readonly t: 'release';
  readonly lock: Lock;
  readonly shared: boolean;
}
/** A read or write of shared state; `obj` is a stable key such as "spte:vm1". */
export interface AccessPoint {
  readonly t: 'access';
  readonly obj: string;
  readonly write: boolean;
  /**
   * For a part ("kind:id:part") whose update can end the whole object (the last reference freeing a folio):
   * evaluated when the transition runs; true makes it a write of the whole object. Assumed true when it cannot
   * be evaluated. The condition may only depend on state that accesses dependent with this one change (so a put
   * is a write of the count, not a read): DPOR evaluates a pending transition's footprint in the current state.
   */
  readonly wholeIf?: () => boolean;
}
/** Blocks until ready() holds, e.g. synchronize_srcu() waiting for pre-existing readers. */
export interface WaitPoint {
  readonly t: 'wait';
  readonly obj: string;
  readonly what: string;
  ready(k: Kernel): boolean;
  /** tids this wait depends on, for deadlock reports */
  blockers(k: Kernel): number[];
}

/** A modeled kernel path returning T. */
export type KGen<T> = Generator<Point, T, undefined>;

/** Execution context of a kernel path: the kernel, `current`, and where events go. */
export interface Ctx {
  readonly k: Kernel;
  readonly task: Task;
  readonly tr: Tracer;
}

export function access(obj: string, write: boolean): AccessPoint {
  return { t: 'access', obj, write };
}

/** Yield a read point on `obj`. */
export function* rd(obj: string): KGen<void> {
  yield { t: 'access', obj, write: false };
}

/** Yield a write point on `obj`. */
export function* wr(obj: string): KGen<void> {
  yield { t: 'access', obj, write: true };
}

export function describePoint(p: Point): string {
  switch (p.t) {
    case 'acquire':
      return `${p.shared ? 'shared ' : ''}acquire of ${p.lock.name}`;
    case 'release':
      return `release of ${p.lock.name}`;
    case 'access':
      return `${p.write ? 'write' : 'read'} of ${p.obj}`;
    case 'wait':
      return p.what;
  }
}
