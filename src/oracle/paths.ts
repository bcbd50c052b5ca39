// Where the oracle keeps things: its sources in the repository (oracle/) and its cache (downloads, extracted
// kernels, built runners and initramfs images), which defaults to .cache/oracle in the project.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: this file is src/oracle/paths.ts or dist/oracle/paths.js. */
export function projectRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The oracle's own sources: the C runner and the initramfs /init. */
export function oracleSourceDir(): string {
  return join(projectRoot(), 'oracle');
}

export function defaultCacheDir(): string {
  return process.env.GMEMSIM_ORACLE_CACHE ?? join(projectRoot(), '.cache', 'oracle');
}

export interface CacheLayout {
  readonly root: string;
  readonly apt: string;
  readonly debs: string;
  readonly build: string;
  readonly runs: string;
  kernel(id: string): string;
  readonly headers: string;
}

export function cacheLayout(root: string = defaultCacheDir()): CacheLayout {
  return {
    root,
    apt: join(root, 'apt'),
    debs: join(root, 'debs'),
    build: join(root, 'build'),
    runs: join(root, 'runs'),
    kernel: (id) => join(root, `kernel-${id}`),
    headers: join(root, 'uapi-headers'),
  };
}

/** Where `name` is on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
