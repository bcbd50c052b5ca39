// Runs kernel paths one after another, as a single-threaded program would. A path that blocks on something
// no other thread can release is a self-deadlock, reported as such.
import { GmemsimError } from '../diagnostics/errors.js';
import { describePoint, type KGen, type Point } from '../kernel/core/sched.js';
import type { Kernel } from '../kernel/machine.js';
import { isEnabled } from './enabled.js';

export type AloneResult<T> = { readonly value: T } | { readonly blocked: Point };

/** Runs gen to the end, or stops at the first point where it would wait forever. */
export function tryRunAlone<T>(k: Kernel, gen: KGen<T>): AloneResult<T> {
  for (;;) {
    const r = gen.next();
    if (r.done) return { value: r.value };
    if (!isEnabled(k, r.value)) return { blocked: r.value };
  }
}

export function runAlone<T>(k: Kernel, gen: KGen<T>): T {
  const r = tryRunAlone(k, gen);
  if ('value' in r) return r.value;
  throw new GmemsimError({
    code: 'GMEM3901',
    message: `a lone thread blocked forever at ${describePoint(r.blocked)}`,
    hint: 'the modeled path takes a lock it already holds, or waits for itself',
  });
}
