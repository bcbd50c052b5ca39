// The oracle commands' behaviour when the oracle cannot run: a loud "oracle skipped" line and the model side
// checked alone (--skip-unavailable), or a coded error and exit status 2 without it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function gmemsim(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [join(root, 'bin', 'gmemsim.js'), ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
}

// no host tools on PATH: the oracle cannot run, the model still can
const noTools = { PATH: '/nonexistent' };

describe('gmemsim diff without an oracle', () => {
  it('skips loudly and checks the model side with --skip-unavailable', () => {
    const r = gmemsim(
      ['diff', '--skip-unavailable', 'test/uapi/gmem-fallocate.yaml', 'conformance/guest_memfd_test'],
      noTools,
    );
    expect(r.stderr).toMatch(/oracle skipped: missing host tools/);
    expect(r.stdout).toMatch(/model: \d+ scenarios, all expectations hold/);
    expect(r.status).toBe(0);
  });

  it('fails with a coded error, not a stack trace, without it', () => {
    const r = gmemsim(['diff', 'test/uapi/gmem-fallocate.yaml'], noTools);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error GMEM5101: missing host tools/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('rejects an unknown kernel as a usage error', () => {
    const r = gmemsim(['diff', '--kernel', '9.9', 'test/uapi/gmem-fallocate.yaml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/GMEM5002: unknown oracle kernel "9.9"/);
  });

  it('runs a scenario that is entirely model-only without booting anything', () => {
    const r = gmemsim(['diff', 'test/uapi/seed-story.yaml'], noTools);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/seed-story.yaml\s+model-only/);
    expect(r.stdout).toMatch(/0 run on both sides/);
  });
});
