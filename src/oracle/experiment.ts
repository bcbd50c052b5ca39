// Oracle experiments: a C program of their own (oracle/experiments/<name>/), built static against the pinned uAPI
// headers like the runner, booted in QEMU with multi-threaded TCG and two vCPUs, once per run. Each experiment
// declares what every mode is expected to show (a deadlock with a given kernel-stack signature, or no hang), so
// a run either confirms the expectation or does not. `gmemsim experiment` is the command.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GmemsimError } from '../diagnostics/errors.js';
import type { Log } from './apt.js';
import { bootQemu, type RawBoot } from './boot.js';
import {
  type BootStatus,
  calleeOf,
  hungTaskLines,
  judgeBoot,
  kernelTraces,
  lastDumps,
  type ParsedBoot,
  parseExperimentOutput,
  type Signature,
} from './experiment-parse.js';
import { buildBaseInitramfs, filesArchive } from './initramfs.js';
import type { KernelProfile } from './kernels.js';
import { cacheLayout, oracleSourceDir } from './paths.js';
import { prepareKernel, staticBusybox } from './prepare.js';
import type { Painter } from './report.js';
import { buildStaticProgram } from './runner-build.js';
import { resolveProfile } from './session.js';

export type Expectation = 'deadlock' | 'no-hang';

export interface ExperimentMode {
  readonly expect: Expectation;
  readonly what: string;
}

export interface ExperimentDef {
  readonly name: string;
  readonly summary: string;
  /** C sources under oracle/experiments/<name>/ */
  readonly sources: readonly string[];
  readonly modes: Readonly<Record<string, ExperimentMode>>;
  readonly defaultMode: string;
  /** how long a boot races before it counts as "no hang" */
  readonly defaultSeconds: number;
  /** no completed iteration for this long is a hang */
  readonly watchdogSeconds: number;
  /** the delay sweep between the two threads, ns (positive: the second thread starts later) */
  readonly delayNs: { readonly min: number; readonly max: number; readonly step: number };
  /** what the expected deadlock looks like in the threads' kernel stacks */
  readonly signature: Signature;
  /** per thread, the function whose callee says where inside it the thread waits */
  readonly waitSites: Readonly<Record<string, string>>;
}

export const EXPERIMENTS: readonly ExperimentDef[] = [
  {
    name: 'mf-vs-punch-deadlock',
    summary:
      'memory_failure() (folio lock, then invalidate_lock read in kvm_gmem_error_folio) against guest_memfd ' +
      'punch-hole (invalidate_lock write, then the folio lock in truncate_inode_pages_range): AB-BA',
    sources: ['race.c'],
    modes: {
      madvise: { expect: 'deadlock', what: 'A: madvise(MADV_HWPOISON) on a mapped guest_memfd page' },
      pfn: { expect: 'deadlock', what: "A: the page's pfn written to debugfs hwpoison/corrupt-pfn" },
      shmem: { expect: 'no-hang', what: 'control: the same race on a memfd (shmem) page' },
      serial: { expect: 'no-hang', what: "control: madvise, but the punch waits for A's syscall to return" },
    },
    defaultMode: 'madvise',
    defaultSeconds: 60,
    watchdogSeconds: 5,
    delayNs: { min: 0, max: 200_000, step: 10_000 },
    signature: {
      A: ['kvm_gmem_error_folio', 'truncate_error_folio', 'memory_failure'],
      B: ['truncate_inode_pages_range', 'kvm_gmem_fallocate'],
    },
    // A sleeps in down_read() of the invalidate_lock, B in the folio-lock wait of truncate_inode_pages_range()
    waitSites: { A: 'kvm_gmem_error_folio', B: 'truncate_inode_pages_range' },
  },
];

export function experimentDef(name: string): ExperimentDef {
  const d = EXPERIMENTS.find((e) => e.name === name);
  if (!d) {
    throw new GmemsimError({
      code: 'GMEM5002',
      message: `unknown experiment "${name}"`,
      hint: `experiments: ${EXPERIMENTS.map((e) => e.name).join(', ')}`,
    });
  }
  return d;
}

export interface ExperimentRequest {
  readonly name: string;
  readonly kernel: string;
  readonly mode?: string;
  readonly runs: number;
  readonly seconds?: number;
  readonly cacheDir?: string;
  /** per boot; default: the racing time plus 3 minutes for boot, watchdog and hung-task reports */
  readonly timeoutMs?: number;
  readonly append?: string;
  readonly log?: Log;
  /** how often a boot with nothing to judge by (guest crash, no start, no result) is redone (default 1) */
  readonly retries?: number;
}

export interface ThreadReport {
  readonly tid: number;
  readonly state: string;
  readonly wchan: string;
  readonly stack: readonly string[];
  /** where inside the experiment's wait site the thread sleeps, e.g. "__filemap_get_folio_mpol" */
  readonly waitsIn?: string;
}

export interface BootReport {
  /** 1-based */
  readonly boot: number;
  /** above 1 when earlier attempts gave nothing to judge by (a guest crash, no start) and the boot was redone */
  readonly attempt: number;
  /** the earlier attempts of this boot: why they did not count, and their logs */
  readonly retried?: readonly { readonly reason: string; readonly logDir: string }[];
  readonly status: BootStatus;
  readonly reason?: string;
  readonly kernel?: string;
  readonly hang?: { readonly iteration: number; readonly delayNs: number; readonly idx: number; readonly pfn: number };
  /** iterations completed */
  readonly iterations?: number;
  /** the program's outcome classes over the completed iterations */
  readonly classes?: Readonly<Record<string, number>>;
  readonly threads: Readonly<Record<string, ThreadReport>>;
  readonly hungTask: readonly string[];
  readonly wallMs: number;
  readonly logDir: string;
}

export interface ExperimentReport {
  readonly experiment: string;
  readonly kernel: string;
  readonly mode: string;
  readonly expect: Expectation;
  readonly seconds: number;
  readonly qemu: string;
  readonly boots: readonly BootReport[];
  /** every boot showed what the mode expects */
  readonly matches: boolean;
}

const QEMU_SHAPE = '-accel tcg,thread=multi -smp 2';
const CLASS_KEYS = ['punch_first', 'mf_ignored', 'mf_first', 'other'] as const;

function counts(p: ParsedBoot): Record<string, number> | undefined {
  const src = p.result ?? p.progress;
  if (!src) return undefined;
  const out: Record<string, number> = {};
  for (const k of CLASS_KEYS) if (typeof src[k] === 'number') out[k] = src[k] as number;
  return Object.keys(out).length ? out : undefined;
}

/** One boot's report from what it printed. */
export function bootReport(
  def: ExperimentDef,
  raw: Pick<RawBoot, 'serial' | 'console' | 'timedOut' | 'totalMs'>,
  boot: number,
  attempt: number,
  logDir: string,
): BootReport {
  const p = parseExperimentOutput(raw.serial);
  const v = judgeBoot(p, def.signature, raw.timedOut, raw.console);
  const threads: Record<string, ThreadReport> = {};
  const traces = kernelTraces(p);
  for (const [role, d] of lastDumps(p)) {
    const site = def.waitSites[role];
    // the logged trace keeps the sleeping primitive /proc/<tid>/stack leaves out
    const waitsIn = site ? (calleeOf(traces.get(d.tid) ?? [], site) ?? calleeOf(d.stack, site)) : undefined;
    threads[role] = { tid: d.tid, state: d.state, wchan: d.wchan, stack: d.stack, ...(waitsIn ? { waitsIn } : {}) };
  }
  const completed = p.result?.iterations ?? p.progress?.iterations;
  return {
    boot,
    attempt,
    status: v.status,
    ...(v.reason ? { reason: v.reason } : {}),
    ...(typeof p.start?.kernel === 'string' ? { kernel: p.start.kernel } : {}),
    ...(p.hang
      ? { hang: { iteration: p.hang.iteration, delayNs: p.hang.delayNs, idx: p.hang.idx, pfn: p.hang.pfn } }
      : {}),
    ...(typeof completed === 'number' ? { iterations: completed } : {}),
    ...(counts(p) ? { classes: counts(p) } : {}),
    threads,
    hungTask: hungTaskLines(p, raw.console),
    wallMs: Math.round(raw.totalMs),
    logDir,
  };
}

export function experimentMatches(expect: Expectation, boots: readonly BootReport[], runs: number): boolean {
  const want: BootStatus = expect === 'deadlock' ? 'deadlock' : 'no-hang';
  return boots.length === runs && boots.every((b) => b.status === want);
}

async function prepareImage(def: ExperimentDef, profile: KernelProfile, cacheDir: string | undefined, log: Log) {
  const c = cacheLayout(cacheDir);
  const k = await prepareKernel(profile, c, log); // tools, pinned packages, kernel and headers (cached)
  const dir = join(oracleSourceDir(), 'experiments', def.name);
  const program = await buildStaticProgram(
    c.build,
    c.headers,
    def.name,
    def.sources.map((s) => join(dir, s)),
  );
  const initramfs = await buildBaseInitramfs({
    buildDir: c.build,
    kernelId: profile.id,
    modulesDir: join(c.kernel(profile.id), 'usr', 'lib', 'modules', profile.abi),
    busybox: staticBusybox(),
    runner: program,
    programName: 'experiment',
  });
  return { vmlinuz: k.vmlinuz, initramfs, runs: c.runs };
}

/** Builds the experiment and boots it `runs` times; a boot that never reached the program is redone once. */
export async function runExperiment(req: ExperimentRequest): Promise<ExperimentReport> {
  const def = experimentDef(req.name);
  const mode = req.mode ?? def.defaultMode;
  const m = def.modes[mode];
  if (!m) {
    throw new GmemsimError({
      code: 'GMEM5002',
      message: `experiment ${def.name} has no mode "${mode}"`,
      hint: `modes: ${Object.keys(def.modes).join(', ')}`,
    });
  }
  const profile = resolveProfile(req.kernel);
  const seconds = req.seconds ?? def.defaultSeconds;
  const log = req.log ?? (() => {});
  const img = await prepareImage(def, profile, req.cacheDir, log);
  const base = join(img.runs, `experiment-${def.name}-${profile.id}-${mode}`);
  rmSync(base, { recursive: true, force: true });
  const args = [mode, seconds, def.watchdogSeconds, def.delayNs.min, def.delayNs.max, def.delayNs.step].join(' ');
  const initrd = join(base, 'initramfs.cpio');
  mkdirSync(base, { recursive: true });
  writeFileSync(initrd, Buffer.concat([readFileSync(img.initramfs), filesArchive({ 'experiment.args': `${args}\n` })]));
  const timeoutMs = req.timeoutMs ?? (seconds + 180) * 1000;
  const boots: BootReport[] = [];
  for (let boot = 1; boot <= req.runs; boot++) {
    const retried: { reason: string; logDir: string }[] = [];
    for (let attempt = 1; ; attempt++) {
      const dir = join(base, `boot-${boot}${attempt > 1 ? `-attempt-${attempt}` : ''}`);
      log(
        `${def.name} ${mode} on ${profile.id}: boot ${boot}/${req.runs}${attempt > 1 ? ` (attempt ${attempt})` : ''}`,
      );
      const raw = await bootQemu(img.vmlinuz, initrd, dir, { timeoutMs, append: req.append, smp: 2, mttcg: true });
      const report = bootReport(def, raw, boot, attempt, dir);
      // a boot with nothing to judge by is redone; one whose program itself failed would fail again
      const redo =
        report.status === 'invalid' &&
        !report.reason?.startsWith('the program failed') &&
        attempt <= (req.retries ?? 1);
      if (!redo) {
        boots.push(retried.length ? { ...report, retried } : report);
        break;
      }
      log(`boot ${boot}: ${report.reason}; booting again`);
      retried.push({ reason: report.reason ?? '', logDir: dir });
    }
  }
  return {
    experiment: def.name,
    kernel: profile.id,
    mode,
    expect: m.expect,
    seconds,
    qemu: QEMU_SHAPE,
    boots,
    matches: experimentMatches(m.expect, boots, req.runs),
  };
}

// ------------------------------------------------------------------------------------------------ text output

const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
const hex = (n: number) => (Number.isFinite(n) ? `0x${n.toString(16)}` : '?');

function statusWord(b: BootReport, p: Painter): string {
  switch (b.status) {
    case 'deadlock':
      return p.red('DEADLOCK');
    case 'hang':
      return p.red('HANG (not the expected deadlock)');
    case 'no-hang':
      return p.green('no hang');
    case 'invalid':
      return p.yellow('INVALID');
  }
}

function bootLines(def: ExperimentDef, b: BootReport, p: Painter): string[] {
  const head = [`boot ${b.boot}${b.attempt > 1 ? ` (attempt ${b.attempt})` : ''}: ${statusWord(b, p)}`];
  if (b.hang) head.push(`at iteration ${b.hang.iteration} (delay ${b.hang.delayNs} ns, pfn ${hex(b.hang.pfn)})`);
  else if (b.iterations !== undefined) head.push(`${b.iterations} iterations`);
  if (b.classes)
    head.push(
      p.dim(
        Object.entries(b.classes)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      ),
    );
  head.push(p.dim(`[${secs(b.wallMs)}]`));
  const lines = [head.join('  ')];
  if (b.reason) lines.push(`  ${p.yellow(b.reason)}`);
  for (const r of b.retried ?? []) lines.push(p.yellow(`  an earlier attempt did not count: ${r.reason}`));
  for (const [role, t] of Object.entries(b.threads)) {
    const where = t.waitsIn ? `, waits in ${def.waitSites[role]}() -> ${t.waitsIn}()` : '';
    lines.push(`  thread ${role}: tid ${t.tid}, state ${t.state}, wchan ${t.wchan}${where}`);
    for (const f of t.stack) lines.push(p.dim(`      ${f}`));
  }
  for (const h of b.hungTask) lines.push(`  ${h}`);
  lines.push(p.dim(`  logs: ${b.logDir}`));
  return lines;
}

export function renderExperiment(r: ExperimentReport, p: Painter): string {
  const def = experimentDef(r.experiment);
  const title = `${p.bold(r.experiment)} on Debian ${r.kernel}, mode ${r.mode} (${def.modes[r.mode].what})`;
  const shape = p.dim(`QEMU ${r.qemu}; expected: ${r.expect}; up to ${r.seconds} s of racing per boot`);
  const seen = r.boots.filter((b) => b.status === (r.expect === 'deadlock' ? 'deadlock' : 'no-hang')).length;
  const verdict = r.matches
    ? p.green(`${seen}/${r.boots.length} boots as expected (${r.expect})`)
    : p.red(`${seen}/${r.boots.length} boots as expected (${r.expect}): the expectation does not hold`);
  return [title, shape, ...r.boots.flatMap((b) => bootLines(def, b, p)), verdict].join('\n');
}
