import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBundle } from '../../src/api/bundle.js';
import { loadScenario } from '../../src/scenario/load.js';

const seed = join(import.meta.dirname, '../../scenarios/seed-story.yaml');

describe('run bundles (the JSON state trace)', () => {
  const b = runBundle(loadScenario('seed-story.yaml', readFileSync(seed, 'utf8')));

  it('pairs every event with the state after it', () => {
    expect(b.states.length).toBe(b.events.length);
    expect(b.steps.length).toBe(12);
    expect(b.initial.files).toEqual([]);
  });

  it('shows the poisoned page with its SPTE gone at the memory-failure event', () => {
    const i = b.events.findIndex((e) => e.name === 'memory_failure_event');
    expect(i).toBeGreaterThan(0);
    const before = b.states[b.events.findIndex((e) => e.name === 'step_begin' && e.args?.op === 'memory_failure')];
    const page5 = (s: typeof before) => s.files[0].pages.find((p) => p.index === 5)!;
    expect(page5(before).flags).not.toContain('hwpoison');
    expect(page5(before).sptes.length).toBe(1);
    const after = b.states[i];
    expect(page5(after).flags).toContain('hwpoison');
    expect(page5(after).sptes).toEqual([]);
    expect(after.vms[0].invalidation.in_progress).toBe(0);
  });

  it('survives a JSON round trip', () => {
    expect(JSON.parse(JSON.stringify(b)).events.length).toBe(b.events.length);
  });
});
