// Shared helpers of the oracle tests: scenarios from inline YAML, and whether the slow prerequisites (the kernel
// cache, QEMU, gcc) are here. A test that needs a missing one is skipped with a message saying what is missing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { debFileName, KERNEL_PROFILES, UAPI_HEADERS } from '../../src/oracle/kernels.js';
import { cacheLayout, which } from '../../src/oracle/paths.js';
import { loadScenario, type Scenario } from '../../src/scenario/load.js';

export function scenario(yaml: string, file = 'inline.yaml'): Scenario {
  return loadScenario(file, yaml);
}

/** Why the QEMU oracle cannot run here, or undefined when it can (cache filled, tools installed). */
export function qemuUnavailable(kernel = '7.3.4'): string | undefined {
  const c = cacheLayout();
  const profile = KERNEL_PROFILES.find((k) => k.id === kernel);
  if (!profile) return `no kernel profile ${kernel}`;
  for (const tool of ['qemu-system-x86_64', 'gcc', 'busybox', 'xz', 'dpkg-deb']) {
    if (!which(tool)) return `${tool} is not installed`;
  }
  for (const p of [...profile.packages.map((x) => debFileName(x)), debFileName(UAPI_HEADERS, 'all')]) {
    if (!existsSync(join(c.debs, p))) return `${p} is not in ${c.debs} (run: gmemsim oracle --prepare-only x)`;
  }
  return undefined;
}

/** Why the runner cannot be built here, or undefined. */
export function runnerUnavailable(): string | undefined {
  if (!which('gcc')) return 'gcc is not installed';
  if (!existsSync(join(cacheLayout().debs, debFileName(UAPI_HEADERS, 'all')))) {
    return `the uAPI headers package is not cached (run: gmemsim oracle --host --prepare-only x)`;
  }
  return undefined;
}

/** A skipped test says why, loudly, in the test output. */
export function announceSkip(what: string, why: string | undefined): void {
  if (why) console.warn(`\n*** SKIPPED ${what}: ${why} ***\n`);
}
