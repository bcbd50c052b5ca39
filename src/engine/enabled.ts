// Whether a thread may take its next transition.
import { lockAvailable } from '../kernel/core/locking.js';
import type { Point } from '../kernel/core/sched.js';
import type { Kernel } from '../kernel/machine.js';

export function isEnabled(k: Kernel, p: Point): boolean {
  switch (p.t) {
    case 'acquire':
      return lockAvailable(p.lock, p.shared);
    case 'release':
    case 'access':
      return true;
    case 'wait':
      return p.ready(k);
  }
}
