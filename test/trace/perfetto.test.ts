// The Perfetto export is valid Chrome trace-event JSON as Perfetto's importer reads it: the schema of every event,
// slices that nest on each track, flows whose ends exist, and exactly one track per thread.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runBundle } from '../../src/api/bundle.js';
import type { CounterexampleBundle } from '../../src/api/ui-formats.js';
import { loadScenario } from '../../src/scenario/load.js';
import { nestIntervals, type PerfettoTrace, toPerfetto } from '../../src/trace/perfetto.js';

const root = join(import.meta.dirname, '..', '..');

const base = { name: z.string().min(1), pid: z.number().int(), tid: z.number().int(), cat: z.string().optional() };
const args = z.record(z.string(), z.unknown()).optional();
const traceEvent = z.discriminatedUnion('ph', [
  z.object({ ...base, ph: z.literal('M'), args: z.object({}).catchall(z.unknown()) }).strict(),
  z.object({ ...base, ph: z.literal('X'), ts: z.number().nonnegative(), dur: z.number().nonnegative(), args }).strict(),
  z.object({ ...base, ph: z.literal('i'), s: z.enum(['t', 'p', 'g']), ts: z.number().nonnegative(), args }).strict(),
  z.object({ ...base, ph: z.literal('s'), id: z.number().int(), ts: z.number().nonnegative(), args }).strict(),
  z
    .object({
      ...base,
      ph: z.literal('f'),
      bp: z.literal('e'),
      id: z.number().int(),
      ts: z.number().nonnegative(),
      args,
    })
    .strict(),
]);
const traceFile = z
  .object({
    traceEvents: z.array(traceEvent),
    displayTimeUnit: z.enum(['ms', 'ns']),
    otherData: z.record(z.string(), z.string()),
  })
  .strict();

/** Checks what Perfetto's JSON importer needs and returns a list of problems (empty when valid). */
function validate(t: PerfettoTrace, threads: ReadonlyArray<{ tid: number }>): string[] {
  const problems: string[] = [];
  const parsed = traceFile.safeParse(JSON.parse(JSON.stringify(t)));
  if (!parsed.success)
    problems.push(...parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`));
  const ev = t.traceEvents;
  const names = ev.filter((e) => e.ph === 'M' && e.name === 'thread_name');
  // one track per thread: a single thread_name per tid, every listed thread named, no events on unnamed tracks
  const named = new Map<number, number>();
  for (const n of names) named.set(n.tid, (named.get(n.tid) ?? 0) + 1);
  for (const [tid, c] of named) if (c !== 1) problems.push(`tid ${tid} is named ${c} times`);
  for (const th of threads) if (!named.has(th.tid)) problems.push(`thread ${th.tid} has no track`);
  const pids = new Set(ev.map((e) => e.pid));
  if (pids.size !== 1) problems.push(`events spread over ${pids.size} processes`);
  for (const e of ev) if (e.ph !== 'M' && !named.has(e.tid)) problems.push(`${e.name} on unnamed track ${e.tid}`);
  // nesting per track: slices (and instants, which Perfetto imports as zero-length slices) never cross
  const byTid = new Map<number, Array<{ b: number; e: number; name: string }>>();
  for (const e of ev) {
    if (e.ph !== 'X' && e.ph !== 'i') continue;
    const l = byTid.get(e.tid) ?? [];
    l.push({ b: e.ts!, e: e.ts! + (e.dur ?? 0), name: e.name });
    byTid.set(e.tid, l);
  }
  for (const [tid, l] of byTid) {
    l.sort((a, b) => a.b - b.b || b.e - a.e);
    const stack: typeof l = [];
    for (const s of l) {
      while (stack.length && stack[stack.length - 1].e <= s.b && !(s.b === s.e && stack[stack.length - 1].e === s.b))
        stack.pop();
      const top = stack[stack.length - 1];
      if (top && s.e > top.e)
        problems.push(`tid ${tid}: "${s.name}" [${s.b}, ${s.e}] crosses "${top.name}" [${top.b}, ${top.e}]`);
      stack.push(s);
    }
  }
  // flows: every start has one finish with the same id, not earlier
  const starts = new Map(ev.filter((e) => e.ph === 's').map((e) => [e.id!, e]));
  const ends = new Map(ev.filter((e) => e.ph === 'f').map((e) => [e.id!, e]));
  if (starts.size !== ends.size) problems.push(`${starts.size} flow starts, ${ends.size} flow ends`);
  for (const [id, s] of starts) {
    const f = ends.get(id);
    if (!f) problems.push(`flow ${id} never ends`);
    else if (f.ts! < s.ts!) problems.push(`flow ${id} ends before it starts`);
  }
  return problems;
}

function bundleOf(file: string) {
  return runBundle(loadScenario(file, readFileSync(join(root, file), 'utf8')));
}

describe('Perfetto export', () => {
  it('exports the seed story with a step slice per step and the lock holds inside them', () => {
    const b = bundleOf('scenarios/seed-story.yaml');
    const t = toPerfetto(b);
    expect(validate(t, b.threads)).toEqual([]);
    const steps = t.traceEvents.filter((e) => e.cat === 'gmemsim.step');
    expect(steps.map((e) => e.name)).toEqual(b.steps.map((s) => s.op));
    const mf = steps.find((e) => e.name === 'memory_failure')!;
    const inside = t.traceEvents.filter(
      (e) => e.cat === 'gmemsim.lock' && e.ph === 'X' && e.ts! >= mf.ts! && e.ts! + e.dur! <= mf.ts! + mf.dur!,
    );
    expect(inside.map((e) => e.name)).toEqual(
      expect.arrayContaining(['mf_mutex', 'inode(1)->i_mapping->invalidate_lock (shared)', 'kvm1->mmu_lock']),
    );
    const event = t.traceEvents.find((e) => e.name === 'memory_failure_event')!;
    expect(event).toMatchObject({ ph: 'i', s: 't', cat: 'memory_failure' });
    expect(event.ts! > mf.ts! && event.ts! < mf.ts! + mf.dur!).toBe(true);
    expect(t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name')).toHaveLength(1);
  });

  it('has a validator that catches what Perfetto would reject', () => {
    const bad: PerfettoTrace = {
      traceEvents: [
        { name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: { name: 't' } },
        { name: 'a', ph: 'X', ts: 0, dur: 5, pid: 1, tid: 1 },
        { name: 'b', ph: 'X', ts: 2, dur: 5, pid: 1, tid: 1 },
        { name: 'c', ph: 'X', ts: 0, dur: 1, pid: 1, tid: 9 },
        { name: 'flow', ph: 's', id: 3, ts: 1, pid: 1, tid: 1 },
      ],
      displayTimeUnit: 'ns',
      otherData: {},
    };
    expect(validate(bad, [{ tid: 1 }, { tid: 2 }])).toEqual([
      'thread 2 has no track',
      'c on unnamed track 9',
      'tid 1: "b" [2, 7] crosses "a" [0, 5]',
      '1 flow starts, 0 flow ends',
      'flow 3 never ends',
    ]);
  });

  it('is valid for every uAPI scenario', () => {
    const files = readdirSync(join(root, 'test/uapi')).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const b = bundleOf(`test/uapi/${f}`);
      expect({ f, problems: validate(toPerfetto(b), b.threads) }).toEqual({ f, problems: [] });
    }
  });

  it('gives a counterexample one track per thread and its happens-before edges as flows', () => {
    const cx = JSON.parse(
      readFileSync(join(root, 'test/fixtures/web/counterexample-fault-vs-mf.json'), 'utf8'),
    ) as CounterexampleBundle;
    const t = toPerfetto(cx);
    expect(validate(t, cx.threads)).toEqual([]);
    const tracks = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name');
    expect(tracks.map((e) => e.args!.name)).toEqual(['main (vmm)', 'vcpu0 (vcpu0)', 'mf (mf)']);
    const flows = t.traceEvents.filter((e) => e.ph === 's' || e.ph === 'f');
    expect(flows).toHaveLength(cx.happensBefore.length * 2);
    const first = cx.happensBefore[0];
    expect(flows.find((e) => e.ph === 's' && e.id === 0)).toMatchObject({ tid: cx.events[first.from].tid });
    expect(flows.find((e) => e.ph === 'f' && e.id === 0)).toMatchObject({ tid: cx.events[first.to].tid });
    expect(t.traceEvents.some((e) => e.name.startsWith('violation GMEM4001'))).toBe(true);
  });

  it('cuts crossing lock holds so that every part nests, keeping both ends exact', () => {
    // hand-over-hand: acquire A (1), acquire B (2), release A (5), release B (8), inside a step [0, 9]
    const out = nestIntervals([
      { begin: 0, end: 9, name: 'step', cat: 's', args: {} },
      { begin: 1, end: 5, name: 'A', cat: 'l', args: {} },
      { begin: 2, end: 8, name: 'B', cat: 'l', args: {} },
    ]);
    expect(out.map((i) => [i.name, i.begin, i.end, i.args])).toEqual([
      ['step', 0, 9, {}],
      ['A', 1, 5, {}],
      ['B', 2, 5, { cut: true }],
      ['B', 5, 8, { continued: true }],
    ]);
  });

  it('nests any set of intervals and covers exactly what they covered', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 20 })).map(([b, d]) => ({ b, e: b + d })),
          { maxLength: 12 },
        ),
        (spans) => {
          const out = nestIntervals(
            spans.map((s, i) => ({ begin: s.b, end: s.e, name: String(i), cat: '', args: {} })),
          );
          // nesting
          const sorted = [...out].sort((a, b) => a.begin - b.begin || b.end - a.end);
          const stack: typeof out = [];
          for (const s of sorted) {
            while (stack.length && stack[stack.length - 1].end <= s.begin) stack.pop();
            const top = stack[stack.length - 1];
            if (top && s.end > top.end) return false;
            stack.push(s);
          }
          // each input is covered by its parts exactly, without gaps or overlaps
          return spans.every((s, i) => {
            const parts = out.filter((o) => o.name === String(i)).sort((a, b) => a.begin - b.begin);
            if (parts[0].begin !== s.b || parts[parts.length - 1].end !== s.e) return false;
            return parts.every((p, j) => j === 0 || parts[j - 1].end === p.begin);
          });
        },
      ),
    );
  });

  it('is written by `gmemsim run --perfetto FILE`', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmemsim-perfetto-'));
    const out = join(dir, 'seed.json');
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin/gmemsim.js'), 'run', 'scenarios/seed-story.yaml', '--perfetto', out],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    const t = JSON.parse(readFileSync(out, 'utf8')) as PerfettoTrace;
    expect(validate(t, [{ tid: 1000 }])).toEqual([]);
    const bad = spawnSync(
      process.execPath,
      [join(root, 'bin/gmemsim.js'), 'run', 'scenarios/seed-story.yaml', '--perfetto', join(dir, 'no/such/dir/x.json')],
      { cwd: root, encoding: 'utf8' },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('GMEM5003');
  });
});
