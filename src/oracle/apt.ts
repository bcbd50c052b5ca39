// Downloads Debian packages with a private apt configuration: its own sources, lists and archive cache under the
// oracle cache; the system's apt sources and state are never read or changed. apt verifies the archive's signature
// (Signed-By the Debian keyring); every .deb is then checked against the sha256 the oracle pins.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GmemsimError } from '../diagnostics/errors.js';
import { execTool, tail } from './exec.js';
import { type DebPackage, debFileName } from './kernels.js';
import type { CacheLayout } from './paths.js';

const MIRROR = 'http://deb.debian.org/debian';
const SUITES = 'trixie-backports trixie';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const LISTS_MAX_AGE_MS = 24 * 3600 * 1000;

export type Log = (line: string) => void;

export function sha256File(path: string): Promise<string> {
  return new Promise((resolveP, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolveP(h.digest('hex')));
  });
}

function unavailable(message: string, hint?: string): GmemsimError {
  return new GmemsimError({ code: 'GMEM5101', message, hint });
}

/** apt-get options that confine apt to the oracle's own directory. */
function aptOptions(c: CacheLayout): string[] {
  return [
    '-o',
    'Dir::Etc::SourceList=/dev/null',
    '-o',
    `Dir::Etc::SourceParts=${join(c.apt, 'sources.d')}`,
    '-o',
    `Dir::State::Lists=${join(c.apt, 'lists')}`,
    '-o',
    `Dir::Cache=${join(c.apt, 'cache')}`,
    '-o',
    'Dir::State::status=/dev/null',
    '-o',
    'APT::Sandbox::User=root',
    '-o',
    'Debug::NoLocking=1',
  ];
}

function writeSources(c: CacheLayout): void {
  for (const d of ['sources.d', 'lists/partial', 'cache/archives/partial'])
    mkdirSync(join(c.apt, d), { recursive: true });
  writeFileSync(
    join(c.apt, 'sources.d', 'gmemsim-oracle.sources'),
    `Types: deb\nURIs: ${MIRROR}\nSuites: ${SUITES}\nComponents: main\nSigned-By: ${KEYRING}\n`,
  );
}

/** apt-get update of the private lists, at most once a day. */
async function refreshLists(c: CacheLayout, log: Log): Promise<void> {
  writeSources(c);
  const stamp = join(c.apt, 'lists', '.gmemsim-updated');
  if (existsSync(stamp) && Date.now() - statSync(stamp).mtimeMs < LISTS_MAX_AGE_MS) return;
  if (!existsSync(KEYRING))
    throw unavailable(`no Debian archive keyring at ${KEYRING}`, 'apt-get install debian-archive-keyring');
  log(`apt-get update (private lists in ${c.apt})`);
  const r = await execTool('apt-get', ['-q', ...aptOptions(c), 'update'], { timeoutMs: 300_000 });
  if (r.code !== 0) throw unavailable(`mirror unreachable: apt-get update failed: ${tail(r.stderr)}`);
  writeFileSync(stamp, '');
}

async function verified(path: string, p: DebPackage): Promise<boolean> {
  return existsSync(path) && (await sha256File(path)) === p.sha256;
}

/** Returns the path of the pinned package in the cache, downloading it when missing; checks its sha256. */
export async function fetchDeb(c: CacheLayout, p: DebPackage, arch: string, log: Log): Promise<string> {
  mkdirSync(c.debs, { recursive: true });
  const path = join(c.debs, debFileName(p, arch));
  if (await verified(path, p)) return path;
  if (existsSync(path)) unlinkSync(path);
  await refreshLists(c, log);
  log(`apt-get download ${p.name}=${p.version}`);
  const r = await execTool('apt-get', ['-q', ...aptOptions(c), 'download', `${p.name}=${p.version}`], {
    cwd: c.debs,
    timeoutMs: 1_800_000,
  });
  if (r.code !== 0) throw unavailable(`mirror unreachable or package gone: ${p.name}=${p.version}: ${tail(r.stderr)}`);
  if (!(await verified(path, p))) {
    const got = existsSync(path) ? await sha256File(path) : 'no file';
    if (existsSync(path)) unlinkSync(path);
    throw new GmemsimError({
      code: 'GMEM5102',
      message: `${debFileName(p, arch)}: sha256 ${got}, expected ${p.sha256}`,
      hint: 'the mirror served a different build than the one the oracle pins',
    });
  }
  return path;
}
