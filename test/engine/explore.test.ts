// What the explorer reports: the defects the 2023 review named in each rejected variant, the deadlock it finds in
// mainline, replayable and shrunk counterexamples, and the same result for the same input.
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/engine/counterexample.js';
import { explore } from '../../src/engine/explore.js';
import { decodeToken } from '../../src/engine/token.js';
import { program, timeless } from './helpers.js';

const codes = (name: string, options = {}) =>
  explore(program(name, options), { shrink: false }).violations.map((v) => v.code);

describe('the seed race, fault vs memory failure, per variant', () => {
  it('mainline: every property holds in every interleaving', () => {
    const r = explore(program('fault-vs-mf'));
    expect(r.complete).toBe(true);
    expect(r.violations).toEqual([]);
    // the vCPU either read before the poison or exited with EHWPOISON
    const vcpu = new Set(r.outcomes.map((o) => o.threads.vcpu0.join()));
    expect([...vcpu].some((s) => s.includes('EHWPOISON KVM_EXIT_MEMORY_FAULT'))).toBe(true);
  });

  it('original-2023: no zap, so an SPTE keeps mapping the poisoned folio, and the index/gfn mix-up WARNs', () => {
    expect(codes('fault-vs-mf', { error_handler: 'original-2023' })).toEqual(
      expect.arrayContaining(['GMEM4001', 'GMEM4009']),
    );
  });

  it('original-2023: with index == gfn it signals the injecting task, which does not map the page', () => {
    expect(codes('mf-index-equals-gfn', { error_handler: 'original-2023' })).toContain('GMEM4007');
  });

  it('rfc-2023: its slot check compares file indices with gfns, WARNs and skips the unmap, so the SPTE survives', () => {
    expect(codes('fault-vs-mf', { error_handler: 'rfc-2023' })).toEqual(
      expect.arrayContaining(['GMEM4001', 'GMEM4009']),
    );
  });

  it('truncate: the guest reads a fresh zeroed page where its poisoned data was', () => {
    const c = codes('fault-vs-mf', { error_handler: 'truncate' });
    expect(c).toContain('GMEM4002');
    expect(c).not.toContain('GMEM4001');
  });
});

describe('memory failure vs punch-hole', () => {
  it('deadlocks in mainline: folio lock then invalidate_lock against invalidate_lock then folio lock', () => {
    const r = explore(program('mf-vs-punch'));
    const d = r.violations.find((v) => v.code === 'GMEM4008');
    expect(d?.message).toMatch(/invalidate_lock/);
    expect(d?.message).toMatch(/folio_lock/);
    expect(d?.preemptions).toBe(1);
  });
});

describe('counterexamples', () => {
  it('replay exactly and carry the violation they report', () => {
    const p = program('fault-vs-mf', { error_handler: 'rfc-2023' });
    const r = explore(p);
    expect(r.violations.length).toBeGreaterThan(0);
    for (const v of r.violations) {
      const d = decodeToken(v.token);
      expect(d).not.toBeNull();
      const again = replay(p, d!.schedule, false);
      expect(again.violations.map((x) => x.code)).toContain(v.code);
      expect(again.schedule.length).toBe(v.length);
    }
  });

  it('are shrunk: never longer, never more preemptions than the first found', () => {
    const p = program('mf-vs-punch');
    const raw = explore(p, { shrink: false }).violations[0];
    const shrunk = explore(p).violations[0];
    expect(shrunk.code).toBe(raw.code);
    expect(shrunk.preemptions).toBeLessThanOrEqual(raw.preemptions);
    expect(shrunk.length).toBeLessThanOrEqual(raw.length);
  });
});

describe('determinism', () => {
  it('the same program and options give the same result, token for token', () => {
    const a = explore(program('fault-vs-conversion'));
    const b = explore(program('fault-vs-conversion'));
    expect(timeless(b)).toEqual(timeless(a));
  });

  it('random and PCT are reproducible from their seed', () => {
    for (const strategy of ['random', 'pct'] as const) {
      const a = explore(program('fault-vs-mf', { error_handler: 'rfc-2023' }), {
        strategy,
        seed: 9,
        maxExecutions: 40,
      });
      const b = explore(program('fault-vs-mf', { error_handler: 'rfc-2023' }), {
        strategy,
        seed: 9,
        maxExecutions: 40,
      });
      expect(timeless(b)).toEqual(timeless(a));
      expect(a.complete).toBe(false);
    }
  });
});

describe('bounds', () => {
  it('--max-executions stops with a partial result that says so', () => {
    const r = explore(program('fault-vs-mf'), { maxExecutions: 5 });
    expect(r.executions).toBe(5);
    expect(r.complete).toBe(false);
    expect(r.interrupted).toMatch(/max-executions 5/);
  });

  it('a preemption bound explores a subset and does not claim completeness', () => {
    const full = explore(program('fault-vs-mf'));
    const bounded = explore(program('fault-vs-mf'), { preemptionBound: 1 });
    expect(bounded.executions).toBeLessThan(full.executions);
    expect(bounded.complete).toBe(false);
  });

  it('--max-memory stops when the resident set is over the limit', () => {
    const r = explore(program('fault-vs-mf'), { maxMemoryMb: 1 });
    expect(r.interrupted).toMatch(/max-memory 1 MiB/);
  });
});
