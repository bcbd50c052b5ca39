// Prepares everything a real-kernel run needs, from the cache when it can: the pinned Debian packages (downloaded
// with a private apt configuration, checked by sha256), the extracted kernel and uAPI headers, the runner built
// against them, and the base initramfs.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GmemsimError } from '../diagnostics/errors.js';
import { fetchDeb, type Log } from './apt.js';
import { isStaticElf } from './elf.js';
import { execTool, tail } from './exec.js';
import { buildBaseInitramfs } from './initramfs.js';
import { type DebPackage, type KernelProfile, UAPI_HEADERS } from './kernels.js';
import { type CacheLayout, which } from './paths.js';
import { buildRunner } from './runner-build.js';

export interface PreparedKernel {
  readonly profile: KernelProfile;
  readonly vmlinuz: string;
  readonly initramfs: string;
  readonly runner: string;
}

function unavailable(message: string, hint?: string): GmemsimError {
  return new GmemsimError({ code: 'GMEM5101', message, hint });
}

const HOST_PACKAGES = 'qemu-system-x86 busybox-static xz-utils gcc libc6-dev dpkg debian-archive-keyring';

/** The host tools a QEMU run needs; a missing one makes the oracle unavailable, with the reason. */
export function checkTools(forQemu: boolean): void {
  const needed = ['apt-get', 'dpkg-deb', 'gcc', 'xz', ...(forQemu ? ['qemu-system-x86_64', 'busybox'] : [])];
  const missing = needed.filter((t) => !which(t));
  if (missing.length > 0)
    throw unavailable(`missing host tools: ${missing.join(', ')}`, `apt-get install -y ${HOST_PACKAGES}`);
}

/** dpkg-deb -x of the packages into dir, unless a stamp says these exact packages are already there. */
async function extract(debs: readonly { path: string; pkg: DebPackage }[], dir: string): Promise<void> {
  const stamp = join(dir, '.gmemsim-extracted');
  const want = debs.map((d) => `${d.pkg.name} ${d.pkg.sha256}`).join('\n');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const d of debs) {
    const r = await execTool('dpkg-deb', ['-x', d.path, dir]);
    if (r.code !== 0) throw unavailable(`dpkg-deb -x ${d.path}: ${tail(r.stderr)}`);
  }
  writeFileSync(stamp, want);
}

/** The uAPI headers and the runner built against them (all a --host run needs). */
export async function prepareRunner(c: CacheLayout, log: Log): Promise<string> {
  const deb = await fetchDeb(c, UAPI_HEADERS, 'all', log);
  await extract([{ path: deb, pkg: UAPI_HEADERS }], c.headers);
  mkdirSync(c.build, { recursive: true });
  return buildRunner(c.build, c.headers);
}

export function staticBusybox(): string {
  const bb = which('busybox');
  if (!bb || !isStaticElf(bb))
    throw unavailable('busybox is not statically linked', 'apt-get install -y busybox-static');
  return bb;
}

export async function prepareKernel(profile: KernelProfile, c: CacheLayout, log: Log): Promise<PreparedKernel> {
  checkTools(true);
  const debs = [];
  for (const p of profile.packages) debs.push({ path: await fetchDeb(c, p, 'amd64', log), pkg: p });
  const kdir = c.kernel(profile.id);
  await extract(debs, kdir);
  const vmlinuz = join(kdir, profile.vmlinuz);
  if (!existsSync(vmlinuz)) throw unavailable(`no ${profile.vmlinuz} in the ${profile.id} packages`);
  const runner = await prepareRunner(c, log);
  const initramfs = await buildBaseInitramfs({
    buildDir: c.build,
    kernelId: profile.id,
    modulesDir: join(kdir, 'usr', 'lib', 'modules', profile.abi),
    busybox: staticBusybox(),
    runner,
  });
  return { profile, vmlinuz, initramfs, runner };
}
