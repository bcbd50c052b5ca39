// The conformance suite: every scenario passes on the model, cites the upstream selftest it ports, and the
// command prints the table. The oracle side runs in test/oracle/qemu.test.ts and in CI.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNotCovered, runConformanceCase, selftestOf } from '../../src/oracle/conformance.js';
import { expandScenarioPaths } from '../../src/oracle/files.js';
import { loadScenario } from '../../src/scenario/load.js';

const root = join(import.meta.dirname, '..', '..');
const files = expandScenarioPaths([join(root, 'conformance')]);
const SELFTESTS = [
  'guest_memfd_test.c',
  'set_memory_region_test.c',
  'private_mem_conversions_test.c',
  'private_mem_kvm_exits_test.c',
];

describe('conformance suite', () => {
  it('has scenarios for every selftest file it ports', () => {
    const cited = new Set(
      files.map((f) => selftestOf(loadScenario(f, readFileSync(f, 'utf8')))?.file.replace(/^x86\//, '')),
    );
    for (const s of SELFTESTS) expect(cited).toContain(s);
  });

  for (const f of files) {
    it(f.slice(root.length + 1), () => {
      const s = loadScenario(f, readFileSync(f, 'utf8'));
      expect(selftestOf(s), 'the description starts with "<selftest>.c <function>:"').toBeDefined();
      expect(s.steps.filter((st) => st.expect).length).toBeGreaterThan(0);
      const r = runConformanceCase(s);
      expect(r.stopped).toBeUndefined();
      expect(r.mismatches.map((m) => `step ${m.step} ${m.op} ${m.field}`)).toEqual([]);
    });
  }

  it('says why each uncovered expectation is not covered', () => {
    const nc = loadNotCovered(join(root, 'conformance'));
    expect(nc.some((n) => n.file === 'pre_fault_memory_test.c')).toBe(true);
    for (const n of nc) expect(n.reason.length).toBeGreaterThan(20);
  });

  it('prints the pass/fail table and exits 0', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'gmemsim.js'), 'conformance', join(root, 'conformance')], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/guest_memfd_test\.c test_fallocate\s+pass\s+oracle-runnable/);
    expect(r.stdout).toMatch(
      /private_mem_kvm_exits_test\.c test_private_access_memslot_deleted\s+pass\s+model-only: KVM_X86_SW_PROTECTED_VM/,
    );
    expect(r.stdout).toMatch(/pre_fault_memory_test\.c pre_fault_memory\s+not covered/);
    expect(r.stdout).toMatch(/conformance: \d+ scenarios, model \d+ pass, 0 fail/);
  });
});
