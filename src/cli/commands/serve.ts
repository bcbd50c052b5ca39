// gmemsim serve: the local web visualizer.
import type { Command } from 'commander';
import pc from 'picocolors';
import { DEFAULT_LIBRARY, DEFAULT_MAX_UPLOAD, DEFAULT_PORT, startServer } from '../../server/server.js';
import { usageError } from '../options.js';

interface ServeFlags {
  port: string;
  host: string;
  library?: string[];
  maxUpload: string;
  allowHost?: string[];
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function intOption(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw usageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

export function registerServe(program: Command, color: () => boolean): void {
  program
    .command('serve')
    .description('start the web visualizer on this machine and print its URL')
    .argument('[file]', 'a scenario to offer first, or a run, counterexample or variants JSON file to open')
    .option('--port <n>', 'TCP port; 0 picks a free one', String(DEFAULT_PORT))
    .option(
      '--host <addr>',
      'address to listen on (anything but loopback exposes the model to the network)',
      '127.0.0.1',
    )
    .option(
      '--library <dir>',
      `a folder of scenarios to offer (repeatable; default ${DEFAULT_LIBRARY})`,
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--max-upload <bytes>', 'largest scenario the page may send', String(DEFAULT_MAX_UPLOAD))
    .option(
      '--allow-host <name>',
      'another host name the page may be opened under (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .action(async (file: string | undefined, opts: ServeFlags) => {
      const c = pc.createColors(color());
      const port = intOption('port', opts.port, 0, 65535);
      const maxUploadBytes = intOption('max-upload', opts.maxUpload, 1024, 256 * 1024 * 1024);
      const s = await startServer({
        host: opts.host,
        port,
        file,
        maxUploadBytes,
        allowHosts: opts.allowHost ?? [],
        ...(opts.library ? { libraryDirs: opts.library } : {}),
      });
      if (!LOOPBACK.has(opts.host)) {
        process.stderr.write(
          c.yellow(
            `gmemsim serve: listening on ${opts.host}, not loopback: anyone who can reach this machine can use it\n`,
          ),
        );
      }
      if (s.assetsMissing)
        process.stderr.write(c.yellow('gmemsim serve: the web UI is not built here; run `npm run build` first\n'));
      process.stdout.write(`gmemsim serve: ${c.bold(s.url)}${file ? `  (${file})` : ''}\n`);
      process.stdout.write(c.dim('Open the URL in a browser. Ctrl-C stops the server.\n'));
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void s.close().then(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
