// Checkpoints: a search resumed from any checkpoint ends with the result of the uninterrupted search, and a
// process killed with SIGKILL at any moment leaves a readable checkpoint (the old one or the new one).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GmemsimError } from '../../src/diagnostics/errors.js';
import { type ExploreCheckpoint, readCheckpoint } from '../../src/engine/checkpoint.js';
import { type ExploreResult, explore } from '../../src/engine/explore.js';
import { program, root, timeless } from './helpers.js';

describe('resuming in-process', () => {
  for (const strategy of ['dfs', 'random'] as const) {
    it(`${strategy}: stopping every few executions and resuming gives the uninterrupted result`, () => {
      const p = program('fault-vs-mf', { error_handler: 'rfc-2023' });
      const o = { strategy, seed: 3, maxExecutions: strategy === 'random' ? 60 : undefined, countTraces: true };
      const whole = explore(p, o);
      let cp: ExploreCheckpoint | undefined;
      let r: ExploreResult;
      let stops = 0;
      do {
        let n = 0;
        r = explore(p, {
          ...o,
          resume: cp,
          shouldStop: () => (++n > 17 ? 'test stop' : undefined),
          onCheckpoint: (c) => {
            cp = JSON.parse(JSON.stringify(c));
          },
        });
        stops++;
      } while (r.interrupted === 'test stop');
      expect(stops).toBeGreaterThan(3);
      expect(timeless(r)).toEqual(timeless(whole));
    });
  }

  it('refuses a checkpoint of another program', () => {
    let cp: ExploreCheckpoint | undefined;
    explore(program('fault-vs-mf'), { maxExecutions: 3, onCheckpoint: (c) => (cp = c) });
    expect(() => explore(program('mf-vs-punch'), { resume: cp })).toThrow(GmemsimError);
  });
});

const bin = join(root, 'bin', 'gmemsim.js');
const scenario = join(root, 'scenarios', 'fault-vs-mf.yaml');

function exploreJson(args: string[]): ExploreResult {
  const r = spawnSync(process.execPath, [bin, 'explore', scenario, '--json', '--no-progress', ...args], {
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as ExploreResult;
}

describe('SIGKILL at random moments', () => {
  it('leaves a checkpoint to resume from, and the resumed search ends as the uninterrupted one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmemsim-ckpt-'));
    const file = join(dir, 'search.json');
    const whole = exploreJson([]);
    let rng = 12345;
    const next = () => {
      rng = (rng * 1103515245 + 12345) % 2 ** 31;
      return rng;
    };
    let kills = 0;
    for (let round = 0; round < 12; round++) {
      const args = [
        bin,
        'explore',
        scenario,
        '--json',
        '--no-progress',
        '--checkpoint',
        file,
        '--checkpoint-every',
        '1',
      ];
      if (existsSync(file)) args.push('--resume', file);
      const child = spawn(process.execPath, args, { stdio: 'ignore' });
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      const timer = setTimeout(() => child.kill('SIGKILL'), 400 + (next() % 1800));
      const code = await exited;
      clearTimeout(timer);
      if (code === null) kills++;
      // whatever moment the kill hit, the checkpoint on disk is whole
      if (existsSync(file)) expect(() => readCheckpoint(file)).not.toThrow();
    }
    expect(kills).toBeGreaterThan(5);
    const resumed = exploreJson(existsSync(file) ? ['--resume', file] : []);
    expect(timeless(resumed)).toEqual(timeless(whole));
  }, 180_000);

  it('a torn or foreign checkpoint is a coded error, not a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmemsim-ckpt-'));
    const torn = join(dir, 'torn.json');
    writeFileSync(torn, '{"format":"gmemsim-checkpoint/1","program":"00');
    const r = spawnSync(process.execPath, [bin, 'explore', scenario, '--resume', torn], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/GMEM5012/);
    const other = join(dir, 'other.json');
    spawnSync(
      process.execPath,
      [bin, 'explore', join(root, 'scenarios', 'mf-vs-punch.yaml'), '--max-executions', '2', '--checkpoint', other],
      { encoding: 'utf8' },
    );
    const r2 = spawnSync(process.execPath, [bin, 'explore', scenario, '--resume', other], { encoding: 'utf8' });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/GMEM5011.*different scenario/);
    expect(readFileSync(other, 'utf8')).toMatch(/gmemsim-checkpoint/);
  });
});
