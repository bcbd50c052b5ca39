// Which transitions are dependent: they touch the same object (or an object and one of its parts) and at least
// one writes. Keys are "kind:id" for whole objects and "kind:id:part" for parts (e.g. one SPTE of a VM's table).
import type { Point } from '../kernel/core/sched.js';

export interface Footprint {
  readonly key: string;
  readonly write: boolean;
  /** lock acquire/release: races are computed between acquisitions, not against releases */
  readonly lockOp: 'acquire' | 'release' | null;
  /** a wait that only becomes enabled by others: it joins their clocks but is never reversed */
  readonly wait: boolean;
}

/**
 * `now`: the transition is pending in the current state, so wholeIf can be evaluated exactly; otherwise it is assumed
 * true (a write, of the whole object).
 */
export function footprint(p: Point, now = false): Footprint {
  switch (p.t) {
    case 'acquire':
      return { key: p.lock.id, write: !p.shared, lockOp: 'acquire', wait: false };
    case 'release':
      return { key: p.lock.id, write: !p.shared, lockOp: 'release', wait: false };
    case 'access':
      if (p.wholeIf && (!now || p.wholeIf()))
        return { key: parentKey(p.obj) ?? p.obj, write: true, lockOp: null, wait: false };
      return { key: p.obj, write: p.write, lockOp: null, wait: false };
    case 'wait':
      return { key: p.obj, write: false, lockOp: null, wait: true };
  }
}

/** "spte:4:1f" -> "spte:4"; whole-object keys have no parent. */
export function parentKey(key: string): string | null {
  const first = key.indexOf(':');
  if (first < 0) return null;
  const last = key.lastIndexOf(':');
  return last > first ? key.slice(0, last) : null;
}

export function keysOverlap(a: string, b: string): boolean {
  return a === b || parentKey(a) === b || parentKey(b) === a;
}

export function conflict(fa: Footprint, fb: Footprint): boolean {
  return (fa.write || fb.write) && keysOverlap(fa.key, fb.key);
}
