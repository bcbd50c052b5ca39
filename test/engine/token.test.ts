// Replay tokens: every schedule round-trips; anything else is refused with a reason, never replayed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeToken, encodeToken, tokenProblem } from '../../src/engine/token.js';
import { program } from './helpers.js';

describe('replay tokens', () => {
  const p = program('fault-vs-mf');

  it('round-trip any schedule', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1 }), { maxLength: 3000 }), (schedule) => {
        const t = encodeToken(p, schedule);
        expect(decodeToken(t)?.schedule).toEqual(schedule);
        expect(tokenProblem(p, t)).toBeUndefined();
      }),
    );
  });

  it('refuse a token of another scenario or other options', () => {
    const t = encodeToken(p, [0, 1, 1]);
    expect(tokenProblem(program('fault-vs-mf', { error_handler: 'truncate' }), t)).toMatch(
      /different scenario or options/,
    );
    expect(tokenProblem(program('mf-vs-punch'), t)).toMatch(/different scenario or options/);
  });

  it('refuse malformed and hostile tokens', () => {
    expect(tokenProblem(p, 'hello')).toMatch(/not a replay token/);
    const hash = encodeToken(p, []).split('-')[1];
    // a run of 2^28 transitions in five bytes
    const huge = Buffer.from([0x00, 0x80, 0x80, 0x80, 0x80, 0x01]).toString('base64url');
    expect(tokenProblem(p, `g1-${hash}-${huge}`)).toMatch(/not a replay token/);
    const thread9 = Buffer.from([9, 1]).toString('base64url');
    expect(tokenProblem(p, `g1-${hash}-${thread9}`)).toMatch(/thread 9/);
  });
});
