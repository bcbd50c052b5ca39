// Runs the runner: in QEMU (TCG with nested SVM, so no /dev/kvm is needed on the host) with every scenario in one
// boot, or directly on a host that has /dev/kvm (--host).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GmemsimError } from '../diagnostics/errors.js';
import { execTool, tail } from './exec.js';
import { inputArchive } from './initramfs.js';
import type { CacheLayout } from './paths.js';
import type { PreparedKernel } from './prepare.js';
import { checkRun, type OracleRun, parseRunnerOutput } from './protocol.js';

export interface Timings {
  /** host wall time of the whole oracle run (boot, scenarios, power-off) */
  readonly totalMs: number;
  /** guest time from kernel start to the runner's start (QEMU only) */
  readonly bootMs?: number;
  /** guest time the runner took for all scenarios */
  readonly runMs?: number;
}

export interface OracleOutcome {
  readonly run: OracleRun;
  readonly timings: Timings;
  /** where the serial logs of the run are kept */
  readonly logDir: string;
}

export interface QemuOptions {
  readonly timeoutMs: number;
  /** extra kernel parameters, e.g. kvm_amd.npt=0 */
  readonly append?: string;
  /** vCPUs of the QEMU machine: race mode wants its threads to run in parallel */
  readonly smp?: number;
  /** multi-threaded TCG (one host thread per vCPU, truly in parallel); experiments ask for it explicitly */
  readonly mttcg?: boolean;
}

const QEMU = 'qemu-system-x86_64';

function runDir(c: CacheLayout, name: string): string {
  const dir = join(c.runs, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function qemuArgs(k: Pick<PreparedKernel, 'vmlinuz'>, initrd: string, dir: string, o: QemuOptions): string[] {
  return [
    '-nodefaults',
    '-accel',
    o.mttcg ? 'tcg,thread=multi' : 'tcg',
    '-cpu',
    // SVM with nested paging under TCG, so kvm_amd loads and /dev/kvm appears. TCG has 40-bit physical addresses
    // (phys-bits=48 boots, but nested guests then fault on their own page tables), so memslots must end below 1 TiB.
    'EPYC',
    '-m',
    '2G',
    '-smp',
    String(o.smp ?? 1),
    '-display',
    'none',
    '-monitor',
    'none',
    '-no-reboot',
    '-kernel',
    k.vmlinuz,
    '-initrd',
    initrd,
    '-append',
    `console=ttyS0 panic=-1 loglevel=4 ${o.append ?? ''}`.trim(),
    '-serial',
    `file:${join(dir, 'console.log')}`,
    '-serial',
    `file:${join(dir, 'results.jsonl')}`,
  ];
}

function readIf(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function timingsOf(run: OracleRun, totalMs: number): Timings {
  const start = run.meta?.uptime_ms;
  return {
    totalMs,
    bootMs: start,
    runMs: start !== undefined && run.doneUptimeMs !== undefined ? run.doneUptimeMs - start : undefined,
  };
}

/** Boots the kernel once and runs every scenario of the input. */
export async function runInQemu(
  k: PreparedKernel,
  input: string,
  c: CacheLayout,
  o: QemuOptions,
): Promise<OracleOutcome> {
  const dir = runDir(c, `last-${k.profile.id}`);
  const initrd = join(dir, 'initramfs.cpio');
  writeFileSync(initrd, Buffer.concat([readFileSync(k.initramfs), inputArchive(input)]));
  for (const f of ['console.log', 'results.jsonl']) writeFileSync(join(dir, f), '');
  const t0 = performance.now();
  const r = await execTool(QEMU, qemuArgs(k, initrd, dir, o), { timeoutMs: o.timeoutMs });
  const totalMs = performance.now() - t0;
  const consoleLog = readIf(join(dir, 'console.log')).replaceAll('\r', '');
  if (r.code === null && !r.timedOut) throw new GmemsimError({ code: 'GMEM5101', message: `${QEMU}: ${r.stderr}` });
  if (r.code !== 0 && !r.timedOut) {
    throw new GmemsimError({ code: 'GMEM5103', message: `${QEMU} exited with ${r.code}: ${tail(r.stderr)}` });
  }
  const run = parseRunnerOutput(readIf(join(dir, 'results.jsonl')));
  checkRun(run, tail(consoleLog, 6));
  return { run, timings: timingsOf(run, totalMs), logDir: dir };
}

/** Runs the runner on this machine, which must have /dev/kvm (and root, for debugfs and pagemap pfns). */
export async function runOnHost(
  runner: string,
  input: string,
  c: CacheLayout,
  timeoutMs: number,
): Promise<OracleOutcome> {
  if (!existsSync('/dev/kvm'))
    throw new GmemsimError({ code: 'GMEM5101', message: '--host needs /dev/kvm on this machine' });
  const dir = runDir(c, 'last-host');
  const inputPath = join(dir, 'input.json');
  writeFileSync(inputPath, input);
  const t0 = performance.now();
  const r = await execTool(runner, [inputPath], { timeoutMs });
  const totalMs = performance.now() - t0;
  const text = r.stdout.toString();
  writeFileSync(join(dir, 'results.jsonl'), text);
  const run = parseRunnerOutput(text);
  checkRun(run, tail(r.stderr, 6));
  return { run, timings: { totalMs, runMs: totalMs }, logDir: dir };
}

export interface RawBoot {
  /** the kernel console (first serial port), CRs removed */
  readonly console: string;
  /** what the program wrote to the second serial port */
  readonly serial: string;
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly totalMs: number;
}

/**
 * One QEMU boot of a kernel and a ready initramfs, logs in dir; no protocol: the caller reads the serial output.
 * A QEMU that cannot start is GMEM5101, one that fails otherwise GMEM5103; a timeout is the caller's to judge.
 */
export async function bootQemu(vmlinuz: string, initrd: string, dir: string, o: QemuOptions): Promise<RawBoot> {
  mkdirSync(dir, { recursive: true });
  for (const f of ['console.log', 'results.jsonl']) writeFileSync(join(dir, f), '');
  const t0 = performance.now();
  const r = await execTool(QEMU, qemuArgs({ vmlinuz }, initrd, dir, o), { timeoutMs: o.timeoutMs });
  const totalMs = performance.now() - t0;
  if (r.code === null && !r.timedOut) throw new GmemsimError({ code: 'GMEM5101', message: `${QEMU}: ${r.stderr}` });
  if (r.code !== 0 && !r.timedOut) {
    throw new GmemsimError({ code: 'GMEM5103', message: `${QEMU} exited with ${r.code}: ${tail(r.stderr)}` });
  }
  return {
    console: readIf(join(dir, 'console.log')).replaceAll('\r', ''),
    serial: readIf(join(dir, 'results.jsonl')),
    code: r.code,
    timedOut: r.timedOut,
    totalMs,
  };
}
