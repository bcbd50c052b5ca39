// Runs kernel paths one after another, as a single-threaded program would. A path that blocks on something
// no other thread can release is a self-deadlock, reported as such.
import { GmemsimError } from '../diagnostics/errors.js';
import { describePoint, type KGen } from '../kernel/core/sched.js';
import type { Kernel } from '../kernel/machine.js';
import { isEnabled } from './enabled.js';

export function runAlone<T>(k: Kernel, gen: KGen<T>): T {
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
    if (!isEnabled(k, r.value)) {
      throw new GmemsimError({
        code: 'GMEM3901',
        message: `a lone thread blocked forever at ${describePoint(r.value)}`,
        hint: 'the modeled path takes a lock it already holds, or waits for itself',
      });
    }
  }
}
