// gmemsim explore / replay / merge / variants as users run them: exit codes, JSON, tokens, Ctrl-C.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, gmemsim, root } from './helpers.js';

describe('gmemsim explore', () => {
  it('exits 0 with complete stats when every property holds', () => {
    const r = gmemsim('explore', 'scenarios/fault-vs-mf.yaml', '--json', '--no-progress');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ complete: true, violations: [] });
    expect(j.executions).toBeGreaterThan(100);
    expect(j.outcomes.length).toBeGreaterThan(1);
  });

  it('exits 1 with a column-per-thread counterexample and a token that replays it', () => {
    const r = gmemsim('explore', 'scenarios/mf-vs-punch.yaml', '--no-progress');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/violation GMEM4008: deadlock/);
    expect(r.stdout).toMatch(/time\(µs\) │ mf +│ vmm/);
    const token = /replay: gmemsim replay \S+ (g1-\S+)/.exec(r.stdout)?.[1];
    expect(token).toBeDefined();
    const again = gmemsim('replay', 'scenarios/mf-vs-punch.yaml', token!, '--json');
    expect(again.status).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'deadlock', violations: [{ code: 'GMEM4008' }] });
  });

  it('refuses a token for other options with a coded error', () => {
    const r = gmemsim('explore', 'scenarios/mf-vs-punch.yaml', '--json', '--no-progress');
    const token = JSON.parse(r.stdout).violations[0].token;
    const other = gmemsim('replay', 'scenarios/mf-vs-punch.yaml', token, '--error-handler', 'truncate');
    expect(other.status).toBe(3);
    expect(other.stderr).toMatch(/GMEM2003: the token was made for a different scenario or options/);
  });

  it('refuses a scenario without threads, and bad flags, as usage errors', () => {
    expect(gmemsim('explore', 'test/uapi/seed-story.yaml').stderr).toMatch(/GMEM1016: .*nothing to explore/);
    const bad = gmemsim('explore', 'scenarios/fault-vs-mf.yaml', '--shard', '3/2');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--shard takes i\/N/);
  });

  it('prints what it found so far on Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'explore', 'bench/scenarios/two-vcpus-mf.yaml', '--json', '--no-progress'],
      {
        cwd: root,
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    setTimeout(() => child.kill('SIGINT'), 1500);
    const code = await new Promise((res) => child.on('exit', res));
    const j = JSON.parse(out);
    expect(code).toBe(130);
    expect(j.complete).toBe(false);
    expect(j.interrupted).toMatch(/SIGINT/);
    expect(j.executions).toBeGreaterThan(0);
  });

  it('--workers 2 covers the same space as one worker', () => {
    const one = JSON.parse(gmemsim('explore', 'scenarios/fault-vs-mf.yaml', '--json', '--no-progress').stdout);
    const two = JSON.parse(
      gmemsim('explore', 'scenarios/fault-vs-mf.yaml', '--json', '--no-progress', '--workers', '2').stdout,
    );
    expect(two.complete).toBe(true);
    const key = (j: { outcomes: Array<{ threads: unknown }> }) =>
      j.outcomes.map((o) => JSON.stringify(o.threads)).sort();
    expect(key(two)).toEqual(key(one));
  });

  it('shards run as separate processes and merge', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmemsim-shards-'));
    const files = [0, 1, 2].map((i) => {
      const f = join(dir, `${i}.json`);
      writeFileSync(
        f,
        gmemsim('explore', 'scenarios/mf-vs-punch.yaml', '--shard', `${i}/3`, '--json', '--no-progress').stdout,
      );
      return f;
    });
    const m = gmemsim('merge', ...files, '--json');
    expect(m.status).toBe(1);
    expect(JSON.parse(m.stdout)).toMatchObject({ complete: true, violations: [{ code: 'GMEM4008' }] });
  });
});

describe('gmemsim variants', () => {
  it('prints one table per scenario, variant × mm rows, with replayable violated cells', () => {
    const r = gmemsim('variants', 'scenarios/mf-index-equals-gfn.yaml', '--json');
    expect(r.status).toBe(0);
    const t = JSON.parse(r.stdout);
    expect(t.format).toBe('gmemsim-variants/1');
    expect(t.rows).toHaveLength(8);
    const row = (v: string) =>
      t.rows.find((x: { variant: string; mm: string }) => x.variant === v && x.mm === 'mainline');
    expect(Object.values(row('mainline').results).every((c) => (c as { status: string }).status === 'holds')).toBe(
      true,
    );
    const cell = row('original-2023').results.GMEM4007;
    expect(cell.status).toBe('violated');
    const replayed = gmemsim(
      'replay',
      'scenarios/mf-index-equals-gfn.yaml',
      cell.token,
      '--error-handler',
      'original-2023',
      '--json',
    );
    expect(JSON.parse(replayed.stdout).violations.map((v: { code: string }) => v.code)).toContain('GMEM4007');
  });

  it('marks cells it could not establish as unknown when the search is bounded', () => {
    const r = gmemsim(
      'variants',
      'scenarios/fault-vs-mf.yaml',
      '--handlers',
      'mainline',
      '--mm',
      'mainline',
      '--max-executions',
      '5',
      '--json',
    );
    const t = JSON.parse(r.stdout);
    expect(t.rows[0].complete).toBe(false);
    expect(t.rows[0].results.GMEM4001.status).toBe('unknown');
  });
});
