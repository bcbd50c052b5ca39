// The real thing: one boot of Debian's 7.3.4 (MTTCG, 2 vCPUs) racing MADV_HWPOISON against a guest_memfd
// punch-hole until the AB-BA deadlock shows (usually within seconds). Needs the oracle cache and qemu-system-x86;
// without them the test is skipped, loudly. Bounded: 45 s of racing, 110 s per boot, no second attempt.
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../src/oracle/experiment.js';
import { announceSkip, qemuUnavailable } from './helpers.js';

const why = qemuUnavailable('7.3.4');
announceSkip('the QEMU experiment test', why);

describe.skipIf(why !== undefined)('mf-vs-punch-deadlock on Debian 7.3.4', () => {
  it('deadlocks: A in kvm_gmem_error_folio under the folio lock, B in truncate_inode_pages_range', async () => {
    const r = await runExperiment({
      name: 'mf-vs-punch-deadlock',
      kernel: '7.3.4',
      mode: 'madvise',
      runs: 1,
      seconds: 45,
      timeoutMs: 110_000,
      retries: 0,
    });
    const [boot] = r.boots;
    expect(boot.status, boot.reason).toBe('deadlock');
    expect(boot.kernel).toBe('7.3.4+deb13-amd64');
    expect(boot.threads.A).toMatchObject({ state: 'D', wchan: 'kvm_gmem_error_folio' });
    expect(boot.threads.B.state).toBe('D');
    expect(boot.threads.B.stack.join('\n')).toMatch(/truncate_inode_pages_range[\s\S]*kvm_gmem_fallocate/);
    expect(boot.hungTask.join('\n')).toMatch(/blocked on an rw-semaphore likely owned by task punch-B/);
    expect(r.matches).toBe(true);
  }, 150_000);
});
