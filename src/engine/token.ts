// Replay tokens: a schedule (the thread chosen at each transition) tied to the scenario and options it came from.
// Format: "g1-<8 hex digits of the program hash>-<base64url of run-length varints>".
import { createHash } from 'node:crypto';
import type { Program } from './program.js';

export function programHash(p: Program): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(p.options));
  h.update(JSON.stringify(p.scenario.source.value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
  return h.digest('hex').slice(0, 8);
}

function pushVarint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

export function encodeToken(p: Program, schedule: readonly number[]): string {
  const bytes: number[] = [];
  for (let i = 0; i < schedule.length; ) {
    let j = i;
    while (j < schedule.length && schedule[j] === schedule[i]) j++;
    pushVarint(bytes, schedule[i]);
    pushVarint(bytes, j - i);
    i = j;
  }
  return `g1-${programHash(p)}-${Buffer.from(bytes).toString('base64url')}`;
}

export interface DecodedToken {
  readonly hash: string;
  readonly schedule: number[];
}

export function decodeToken(token: string): DecodedToken | null {
  const m = /^g1-([0-9a-f]{8})-([A-Za-z0-9_-]*)$/.exec(token.trim());
  if (!m) return null;
  const bytes = Buffer.from(m[2], 'base64url');
  const nums: number[] = [];
  let v = 0;
  let shift = 0;
  for (const b of bytes) {
    v |= (b & 0x7f) << shift;
    if (b & 0x80) shift += 7;
    else {
      nums.push(v);
      v = 0;
      shift = 0;
    }
  }
  if (shift !== 0 || nums.length % 2) return null;
  let total = 0;
  for (let i = 1; i < nums.length; i += 2) total += nums[i];
  if (total > MAX_TOKEN_TRANSITIONS) return null;
  const schedule: number[] = [];
  for (let i = 0; i < nums.length; i += 2) for (let c = 0; c < nums[i + 1]; c++) schedule.push(nums[i]);
  return { hash: m[1], schedule };
}

/** Longer than any execution the explorer runs (its depth bound), so a hostile token cannot exhaust memory. */
const MAX_TOKEN_TRANSITIONS = 1_000_000;

/** Why the token cannot replay on this program, in words; undefined when it can. */
export function tokenProblem(p: Program, token: string, d = decodeToken(token)): string | undefined {
  if (!d) return `"${token}" is not a replay token (they look like g1-1a2b3c4d-AAcBDQAH)`;
  if (d.hash !== programHash(p)) {
    return `the token was made for a different scenario or options (token ${d.hash}, this one ${programHash(p)})`;
  }
  const bad = d.schedule.find((t) => t >= p.threads.length);
  if (bad !== undefined) return `the token schedules thread ${bad}; the scenario has ${p.threads.length}`;
  return undefined;
}
