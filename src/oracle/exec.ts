// Running the host tools the oracle needs (apt-get, dpkg-deb, xz, gcc, qemu) with their output captured, so a
// failure becomes a coded diagnostic with the tool's own message instead of a stack trace.
import { spawn } from 'node:child_process';

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface ExecOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly stdin?: string | Buffer;
}

export function execTool(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolveP) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => {
      if (err.length < 1 << 20) err += d.toString();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolveP({ code: null, signal: null, stdout: Buffer.alloc(0), stderr: String(e.message), timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveP({ code, signal, stdout: Buffer.concat(out), stderr: err, timedOut });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a tool that exits without reading its input is judged by its status
      child.stdin.end(opts.stdin);
    }
  });
}

/** The last few lines of a tool's stderr, for messages. */
export function tail(text: string, lines = 4): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}
