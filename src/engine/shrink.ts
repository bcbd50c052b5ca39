// Counterexample shrinking: treat a schedule as a guide (follow its choices while they are enabled, otherwise and
// afterwards keep running the current thread), and greedily delete chunks of it while the same property still
// fails. Fewer choices mean fewer preemptions and a shorter trace.
import type { DiagnosticCode } from '../diagnostics/codes.js';
import type { Violation } from '../properties/properties.js';
import { type Chooser, runExecution } from './execution.js';
import type { Program } from './program.js';

export const SHRINK_ATTEMPTS = 400;

export function guidedChooser(guide: readonly number[]): Chooser {
  let prev = -1;
  return (_w, depth, enabled) => {
    const want = depth < guide.length ? guide[depth] : -1;
    const t = enabled.includes(want) ? want : enabled.includes(prev) ? prev : enabled[0];
    prev = t;
    return t;
  };
}

export interface Shrunk {
  readonly schedule: number[];
  readonly preemptions: number;
  readonly violation: Violation;
}

function attempt(p: Program, guide: readonly number[], code: DiagnosticCode, maxDepth?: number): Shrunk | null {
  const r = runExecution(p, guidedChooser(guide), { maxDepth });
  const v = r.violations.find((x) => x.code === code);
  return v ? { schedule: r.schedule, preemptions: r.preemptions, violation: v } : null;
}

export function shrinkSchedule(
  p: Program,
  schedule: readonly number[],
  code: DiagnosticCode,
  maxDepth?: number,
): Shrunk | null {
  let cur = attempt(p, schedule, code, maxDepth);
  if (!cur) return null;
  // the guide only needs the choices up to the last context switch
  let guide = cur.schedule.slice();
  let tries = 0;
  for (let chunk = Math.max(1, guide.length >> 1); chunk >= 1 && tries < SHRINK_ATTEMPTS; chunk >>= 1) {
    for (let at = 0; at < guide.length && tries < SHRINK_ATTEMPTS; ) {
      tries++;
      const cand = [...guide.slice(0, at), ...guide.slice(at + chunk)];
      const r = attempt(p, cand, code, maxDepth);
      if (
        r &&
        (r.preemptions < cur.preemptions ||
          (r.preemptions === cur.preemptions && r.schedule.length <= cur.schedule.length))
      ) {
        cur = r;
        guide = cand;
      } else {
        at += chunk;
      }
    }
  }
  return cur;
}
