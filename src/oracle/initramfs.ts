// The initramfs the oracle boots: busybox (static), the KVM and hwpoison-inject modules of the kernel under test
// (decompressed on the host, loaded in dependency order), the runner, and /init from oracle/init.sh. The base
// image is cached; each run appends a small archive with its input.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GmemsimError } from '../diagnostics/errors.js';
import { type CpioEntry, cpioArchive } from './cpio.js';
import { execTool, tail } from './exec.js';
import { oracleSourceDir } from './paths.js';

/** The modules /init loads, before their dependencies are added. */
export const ORACLE_MODULES = ['kvm-amd', 'hwpoison-inject'] as const;

/** Module files by their canonical name (dashes), found anywhere under the modules tree. */
function indexModules(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) indexModules(p, out);
    else {
      const m = /^(.*)\.ko(\.xz|\.zst|\.gz)?$/.exec(e.name);
      if (m) out.set(m[1].replaceAll('_', '-'), p);
    }
  }
  return out;
}

async function decompress(path: string): Promise<Buffer> {
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : path.endsWith('.gz') ? 'gzip' : '';
  if (!tool) return readFileSync(path);
  const r = await execTool(tool, ['-dc', path]);
  if (r.code !== 0) throw new GmemsimError({ code: 'GMEM5101', message: `${tool} -dc ${path}: ${tail(r.stderr)}` });
  return r.stdout;
}

/** The "depends=" entry of a module's .modinfo. */
export function moduleDepends(ko: Buffer): string[] {
  const i = ko.indexOf('\0depends=');
  if (i < 0) return [];
  const end = ko.indexOf(0, i + 1);
  const list = ko.subarray(i + 9, end).toString();
  return list ? list.split(',').map((d) => d.replaceAll('_', '-')) : [];
}

interface LoadedModule {
  readonly name: string;
  readonly data: Buffer;
}

/** Depth-first: each module after its dependencies. A module not found is built in, and skipped. */
async function resolveModules(modulesDir: string, wanted: readonly string[]): Promise<LoadedModule[]> {
  const index = indexModules(modulesDir);
  const order: LoadedModule[] = [];
  const seen = new Set<string>();
  const visit = async (name: string): Promise<void> => {
    if (seen.has(name)) return;
    seen.add(name);
    const file = index.get(name);
    if (!file) return;
    const data = await decompress(file);
    for (const d of moduleDepends(data)) await visit(d);
    order.push({ name, data });
  };
  for (const w of wanted) await visit(w);
  return order;
}

export interface BaseImageInputs {
  readonly buildDir: string;
  readonly kernelId: string;
  readonly modulesDir: string;
  readonly busybox: string;
  readonly runner: string;
  /** the name the program at `runner` gets in the image (default "runner") */
  readonly programName?: string;
}

/** Builds (or reuses) the base initramfs for a kernel and runner; returns its path. */
export async function buildBaseInitramfs(inp: BaseImageInputs): Promise<string> {
  const init = readFileSync(join(oracleSourceDir(), 'init.sh'));
  const runner = readFileSync(inp.runner);
  const busybox = readFileSync(inp.busybox);
  const programName = inp.programName ?? 'runner';
  const hash = createHash('sha256')
    .update(init)
    .update(runner)
    .update(busybox)
    .update(inp.modulesDir)
    .update(String(statSync(inp.modulesDir).mtimeMs));
  if (inp.programName) hash.update(inp.programName); // the runner's images keep the keys they always had
  const key = hash.digest('hex').slice(0, 16);
  const out = join(inp.buildDir, `initramfs-${inp.kernelId}-${key}.cpio`);
  if (existsSync(out)) return out;
  const modules = await resolveModules(inp.modulesDir, ORACLE_MODULES);
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'tmp', 'lib', 'lib/modules'].map((name) => ({ kind: 'dir' as const, name })),
    { kind: 'file', name: 'bin/busybox', data: busybox, mode: 0o755 },
    { kind: 'symlink', name: 'bin/sh', target: 'busybox' },
    { kind: 'file', name: 'init', data: init, mode: 0o755 },
    { kind: 'file', name: programName, data: runner, mode: 0o755 },
    ...modules.map((m) => ({ kind: 'file' as const, name: `lib/modules/${m.name}.ko`, data: m.data })),
    { kind: 'file', name: 'lib/modules/load-order', data: Buffer.from(`${modules.map((m) => m.name).join('\n')}\n`) },
  ];
  writeFileSync(`${out}.tmp`, cpioArchive(entries));
  renameSync(`${out}.tmp`, out);
  return out;
}

/** The per-run archive: the runner's input as /input.json. */
export function inputArchive(inputJson: string): Buffer {
  return cpioArchive([{ kind: 'file', name: 'input.json', data: Buffer.from(inputJson) }]);
}

/** A per-run archive of small files (an experiment's arguments), appended to a base image like inputArchive. */
export function filesArchive(files: Readonly<Record<string, string>>): Buffer {
  return cpioArchive(Object.entries(files).map(([name, text]) => ({ kind: 'file', name, data: Buffer.from(text) })));
}
