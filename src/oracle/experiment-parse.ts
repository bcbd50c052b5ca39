// What an experiment boot printed, and what it means. The program (oracle/experiments/<name>/*.c) writes one JSON
// object per line to the second serial port, {"exp": KIND, ...}: "start", "iter" (the first few iterations),
// "progress", "hang" (the watchdog saw no progress), "task" (a racing thread's /proc state, wchan and kernel
// stack), "kmsg" (kernel log records relayed after a hang), "result", "error". The kernel console adds the
// hung-task detector's lines when the program could not relay them.

export type BootStatus = 'deadlock' | 'hang' | 'no-hang' | 'invalid';

export interface TaskDump {
  readonly role: string;
  /** 1: when the hang was detected; 2: after the hung-task detector had its say */
  readonly pass: number;
  readonly tid: number;
  /** the state letter of /proc/<tid>/stat: D is uninterruptible sleep */
  readonly state: string;
  readonly wchan: string;
  readonly syscall: string;
  /** /proc/<tid>/stack, innermost first, without the "[<0>] " prefixes */
  readonly stack: readonly string[];
}

export interface HangInfo {
  /** the iteration in flight (0-based) */
  readonly iteration: number;
  readonly completed: number;
  readonly idx: number;
  readonly delayNs: number;
  readonly pfn: number;
  readonly stalledMs: number;
  readonly uptimeMs: number;
}

export interface KmsgRecord {
  readonly level: number;
  readonly usec: number;
  readonly text: string;
}

export interface ParsedBoot {
  readonly start?: Readonly<Record<string, unknown>>;
  readonly iterations: readonly Readonly<Record<string, unknown>>[];
  readonly progress?: Readonly<Record<string, unknown>>;
  readonly hang?: HangInfo;
  readonly tasks: readonly TaskDump[];
  readonly kmsg: readonly KmsgRecord[];
  readonly result?: Readonly<Record<string, unknown>>;
  readonly error?: string;
}

function objectOf(line: string): Record<string, unknown> | undefined {
  const at = line.indexOf('{');
  if (at < 0) return undefined;
  try {
    const v: unknown = JSON.parse(line.slice(at));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // serial noise or a line cut by the power-off; what is missing shows in the verdict
  }
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The lines of the second serial port, by kind. */
export function parseExperimentOutput(serial: string): ParsedBoot {
  const iterations: Record<string, unknown>[] = [];
  const tasks: TaskDump[] = [];
  const kmsg: KmsgRecord[] = [];
  let start: Record<string, unknown> | undefined;
  let progress: Record<string, unknown> | undefined;
  let hang: HangInfo | undefined;
  let result: Record<string, unknown> | undefined;
  let error: string | undefined;
  for (const raw of serial.split('\n')) {
    const v = objectOf(raw.replace(/\r$/, ''));
    if (!v || typeof v.exp !== 'string') continue;
    switch (v.exp) {
      case 'start':
        start = v;
        break;
      case 'iter':
        iterations.push(v);
        break;
      case 'progress':
        progress = v;
        break;
      case 'hang':
        hang = {
          iteration: num(v.iteration),
          completed: num(v.completed),
          idx: num(v.idx),
          delayNs: num(v.delay_ns),
          pfn: num(v.pfn),
          stalledMs: num(v.stalled_ms),
          uptimeMs: num(v.uptime_ms),
        };
        break;
      case 'task':
        tasks.push({
          role: str(v.role),
          pass: num(v.pass),
          tid: num(v.tid),
          state: str(v.state),
          wchan: str(v.wchan).trim(),
          syscall: str(v.syscall),
          stack: (Array.isArray(v.stack) ? v.stack : []).map((s) => String(s).replace(/^\[<[0-9a-f]+>\]\s*/, '')),
        });
        break;
      case 'kmsg':
        kmsg.push({ level: num(v.level), usec: num(v.usec), text: str(v.text) });
        break;
      case 'result':
        result = v;
        break;
      case 'error':
        error = str(v.message);
        break;
    }
  }
  return { start, iterations, progress, hang, tasks, kmsg, result, error };
}

/** The hung-task detector's verdicts (kernel/hung_task.c): "blocked for more than", "... likely owned by ...". */
const HUNG_TASK_RE = /INFO: task \S+ .*\bblocked\b.*(?:for more than \d+ seconds|likely owned by).*$/;

/** Hung-task lines from the relayed kernel log and the console, timestamps dropped, each once, in order. */
export function hungTaskLines(p: ParsedBoot, consoleLog: string): string[] {
  const out: string[] = [];
  const add = (line: string) => {
    const m = HUNG_TASK_RE.exec(line.trimEnd());
    if (m && !out.includes(m[0])) out.push(m[0]);
  };
  for (const r of p.kmsg) add(r.text);
  for (const line of consoleLog.split('\n')) add(line);
  return out;
}

/** The function of a stack frame, "kvm_gmem_error_folio+0x3f/0x140 [kvm]" -> "kvm_gmem_error_folio". */
export function frameFunction(frame: string): string {
  return frame.replace(/^\[<[0-9a-f]+>\]\s*/, '').split(/[+\s]/)[0];
}

/** What the experiment declares a deadlock looks like: functions each thread's kernel stack must hold. */
export type Signature = Readonly<Record<string, readonly string[]>>;

/** The last dump of each role. */
export function lastDumps(p: ParsedBoot): Map<string, TaskDump> {
  const m = new Map<string, TaskDump>();
  for (const t of p.tasks) if ((m.get(t.role)?.pass ?? 0) <= t.pass) m.set(t.role, t);
  return m;
}

/** Why a hang does not match the signature, or undefined when it does. */
export function signatureMismatch(p: ParsedBoot, sig: Signature): string | undefined {
  const dumps = lastDumps(p);
  for (const [role, fns] of Object.entries(sig)) {
    const d = dumps.get(role);
    if (!d) return `no /proc dump of thread ${role}`;
    if (d.state !== 'D') return `thread ${role} is in state ${d.state}, not D (uninterruptible sleep)`;
    const have = new Set(d.stack.map(frameFunction));
    const missing = fns.filter((f) => !have.has(f));
    if (missing.length) return `thread ${role}'s kernel stack lacks ${missing.join(', ')}`;
  }
  return undefined;
}

/**
 * The call traces the kernel logged per task (sysrq-w's "Show Blocked State" and the hung-task reports), by pid
 * (the thread id), innermost first; frames the unwinder only guessed ("? fn") are left out. Unlike
 * /proc/<tid>/stack these keep the sleeping primitive, e.g. down_read under kvm_gmem_error_folio.
 */
export function kernelTraces(p: ParsedBoot): Map<number, string[]> {
  const traces = new Map<number, string[]>();
  let current: string[] | undefined;
  for (const { text } of p.kmsg) {
    const head = /^task:\S+\s+state:\S+.*\bpid:(\d+)/.exec(text);
    if (head) {
      const tid = Number(head[1]);
      current = traces.has(tid) ? undefined : []; // the first trace of each task is enough
      if (current) traces.set(tid, current);
      continue;
    }
    if (!current) continue;
    const t = text.trim();
    if (t === '</TASK>') current = undefined;
    else if (/^[\w.]+\+0x[0-9a-f]+\/0x[0-9a-f]+/.test(t)) current.push(t);
  }
  return traces;
}

/** The callee of `fn` in a stack (innermost first): where inside fn the thread waits. */
export function calleeOf(stack: readonly string[], fn: string): string | undefined {
  const i = stack.findIndex((f) => frameFunction(f) === fn);
  return i > 0 ? frameFunction(stack[i - 1]) : undefined;
}

export interface Verdict {
  readonly status: BootStatus;
  readonly reason?: string;
}

/** The guest kernel's own crash report on the console, "Oops: int3: 0000 [#1] SMP NOPTI at __schedule+0x3f3/0x1080". */
export function guestCrash(consoleLog: string): string | undefined {
  const lines = consoleLog.split('\n').map((l) => l.replace(/^\[\s*\d+\.\d+\]\s*/, ''));
  const i = lines.findIndex((l) => /^(Oops: |BUG: |Kernel panic - not syncing)/.test(l));
  if (i < 0) return undefined;
  const rip = lines.slice(i).find((l) => l.startsWith('RIP: 0010:'));
  return rip ? `${lines[i].trim()} at ${rip.slice('RIP: 0010:'.length)}` : lines[i].trim();
}

/** What one boot showed: the declared deadlock, another hang, a clean run, or nothing to judge by. */
export function judgeBoot(p: ParsedBoot, sig: Signature, timedOut: boolean, consoleLog = ''): Verdict {
  if (p.error) return { status: 'invalid', reason: `the program failed: ${p.error}` };
  if (p.hang) {
    const why = signatureMismatch(p, sig);
    return why ? { status: 'hang', reason: why } : { status: 'deadlock' };
  }
  if (p.result?.hung === false) return { status: 'no-hang' };
  const crash = guestCrash(consoleLog);
  if (crash) return { status: 'invalid', reason: `the guest kernel crashed: ${crash}` };
  if (!p.start) return { status: 'invalid', reason: 'the program never started (boot failure?)' };
  return {
    status: 'invalid',
    reason: timedOut ? 'the boot timed out before the program reported' : 'the program stopped without a result',
  };
}
