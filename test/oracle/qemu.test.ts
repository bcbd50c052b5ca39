// The real thing: boot Debian's 7.3.4 under QEMU and run scenarios on it. Needs the oracle cache (downloaded by
// `gmemsim oracle --prepare-only`) and qemu-system-x86; without them the test is skipped, loudly.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareSession, kernelMismatches, oracleResultsFor, runOracle } from '../../src/oracle/session.js';
import { loadScenario } from '../../src/scenario/load.js';
import { announceSkip, qemuUnavailable } from './helpers.js';

const why = qemuUnavailable('7.3.4');
announceSkip('the QEMU oracle test', why);

const files = [
  'conformance/guest_memfd_test/guest.yaml',
  'test/uapi/mf-madvise-mainline.yaml',
  'oracle/regressions/soft-offline-page-flags.yaml',
  'test/uapi/seed-story.yaml',
];

describe.skipIf(why !== undefined)('the oracle on Debian 7.3.4', () => {
  it('runs scenarios in one boot and agrees with the model', async () => {
    const scenarios = files.map((f) => loadScenario(f, readFileSync(f, 'utf8')));
    const session = await runOracle({ scenarios, kernel: '7.3.4', timeoutMs: 300_000 });
    expect(session.outcome?.run.meta?.kernel).toBe('7.3.4+deb13-amd64');
    // the guest wrote 0xff everywhere and read 0xaa first: real guest code at 4 GiB ran
    const guest = oracleResultsFor(session, 0)!;
    expect(kernelMismatches(session.plans[0], guest.results)).toEqual([]);
    const report = compareSession(session);
    expect(report.comparisons.map((c) => c.status)).toEqual(['identical', 'identical', 'identical', 'model-only']);
    expect(report.stale).toEqual([]);
    expect(report.timings.oracle?.totalMs).toBeGreaterThan(0);
  }, 300_000);
});
