// The local web server behind `gmemsim serve`: the built page, the scenario library, and runs, explorations and
// variant tables as JSON. It is meant for one user on one machine: it binds loopback unless told otherwise,
// refuses requests that name another host or come from another site, caps uploads, and reads files only from
// the assets folder, the library folders and the FILE it was started with. Scenario text is parsed as YAML or
// JSON data by the scenario loader; nothing in it is ever evaluated.
import { existsSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBundle } from '../api/bundle.js';
import { documentProblem } from '../api/ui-formats.js';
import { GmemsimError } from '../diagnostics/errors.js';
import {
  DEFAULT_OPTIONS,
  ERROR_HANDLERS,
  KERNEL_VERSIONS,
  type KernelOptions,
  MM_BEHAVIOURS,
} from '../kernel/options.js';
import { loadScenario, type Scenario } from '../scenario/load.js';
import { checkRequest, type GuardConfig, guardConfig } from './guard.js';
import { HttpError, readBody, SECURITY_HEADERS, sendError, sendJson, statusOf } from './http.js';
import { Library, type LibraryEntry } from './library.js';
import { type ExplorerLoader, loadExplorer } from './routes/explore.js';
import { pipeFile, serveAsset } from './static.js';

/** The package root, from src/server or dist/server alike. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_ASSETS = resolve(PACKAGE_ROOT, 'dist/web');
export const DEFAULT_LIBRARY = resolve(PACKAGE_ROOT, 'scenarios');
export const DEFAULT_PORT = 7373;
/** Scenarios are a few kilobytes; a megabyte leaves room for generated ones. */
export const DEFAULT_MAX_UPLOAD = 1024 * 1024;
/** An exploration that runs longer than this is cancelled (the page says so). */
export const DEFAULT_JOB_TIMEOUT_MS = 10 * 60 * 1000;

export interface ServeOptions {
  readonly host?: string;
  readonly port?: number;
  readonly assetsDir?: string;
  readonly libraryDirs?: readonly string[];
  /** `gmemsim serve FILE`: a scenario to offer first, or a run/counterexample/variants JSON to open */
  readonly file?: string;
  readonly maxUploadBytes?: number;
  /** extra host names accepted in Host/Origin, e.g. a name in /etc/hosts */
  readonly allowHosts?: readonly string[];
  readonly explorer?: ExplorerLoader;
  readonly jobTimeoutMs?: number;
}

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  readonly port: number;
  /** a JSON document opened at start, if FILE was one */
  readonly initialDocument?: string;
  readonly assetsMissing: boolean;
  close(): Promise<void>;
}

interface InitialDoc {
  readonly path: string;
  readonly name: string;
}

/** A FILE is a document to open when it is JSON with a gmemsim `format`; anything else is a scenario. */
async function classifyFile(file: string): Promise<{ doc?: InitialDoc; scenario?: string }> {
  const path = resolve(file);
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (e) {
    throw new GmemsimError({
      code: 'GMEM5001',
      message: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    });
  }
  if (!st.isFile()) throw new GmemsimError({ code: 'GMEM5001', message: `cannot read ${file}: not a file` });
  if (extname(path).toLowerCase() === '.json') {
    // Scenario files stay under the loader's 4 MiB bound; anything bigger can only be a trace to view.
    if (st.size > 4 * 1024 * 1024) return { doc: { path, name: basename(path) } };
    const text = await readFile(path, 'utf8');
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return { scenario: path }; // the scenario loader reports the syntax error with line and column
    }
    if (typeof v === 'object' && v !== null && 'format' in v) {
      const problem = documentProblem(v);
      if (problem) throw new GmemsimError({ code: 'GMEM5001', message: `${file}: ${problem}` });
      return { doc: { path, name: basename(path) } };
    }
  }
  return { scenario: path };
}

type OptionsOverride = { -readonly [K in keyof KernelOptions]?: KernelOptions[K] };

function bad(message: string, hint?: string): HttpError {
  return new HttpError(400, 'GMEM5007', message, hint);
}

/** The options the page may override; anything else in the request is refused, not ignored. */
function parseOptions(v: unknown): OptionsOverride {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('`options` must be an object');
  const o: OptionsOverride = {};
  for (const [k, val] of Object.entries(v)) {
    if (val === undefined || val === null || val === '') continue;
    const pick = <T extends string>(list: readonly T[]): T => {
      if (typeof val !== 'string' || !(list as readonly string[]).includes(val))
        throw bad(`options.${k}: "${String(val).slice(0, 40)}" is not one of ${list.join(', ')}`);
      return val as T;
    };
    if (k === 'mm') o.mm = pick(MM_BEHAVIOURS);
    else if (k === 'error_handler') o.error_handler = pick(ERROR_HANDLERS);
    else if (k === 'kernel') o.kernel = pick(KERNEL_VERSIONS);
    else if (k === 'sw_protected_vm') {
      if (typeof val !== 'boolean') throw bad('options.sw_protected_vm must be true or false');
      o.sw_protected_vm = val;
    } else throw bad(`unknown option "${k.slice(0, 40)}"`);
  }
  return o;
}

/** A display name for pasted text: a plain file name, never a path. */
function uploadName(v: unknown): string {
  const n =
    typeof v === 'string'
      ? basename(v)
          .replace(/[^\w.-]/g, '_')
          .slice(0, 64)
      : '';
  return n || 'pasted.yaml';
}

interface JobRequest {
  readonly scenario: Scenario;
  readonly options: OptionsOverride;
  readonly token?: string;
}

export async function startServer(o: ServeOptions = {}): Promise<RunningServer> {
  const host = o.host ?? '127.0.0.1';
  const maxUpload = o.maxUploadBytes ?? DEFAULT_MAX_UPLOAD;
  const explorer = o.explorer ?? loadExplorer;
  const jobTimeout = o.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
  const assetsDir = resolve(o.assetsDir ?? DEFAULT_ASSETS);
  const assetsMissing = !existsSync(resolve(assetsDir, 'index.html'));
  const assetsRoot = assetsMissing ? assetsDir : await realpath(assetsDir);
  const classified = o.file ? await classifyFile(o.file) : {};
  const library = new Library(o.libraryDirs ?? [DEFAULT_LIBRARY], classified.scenario);
  const version = await readFile(resolve(PACKAGE_ROOT, 'package.json'), 'utf8')
    .then((t) => String((JSON.parse(t) as { version?: string }).version ?? ''))
    .catch(() => '');
  let guard: GuardConfig | undefined;

  const readJob = async (req: IncomingMessage): Promise<JobRequest> => {
    const type = String(req.headers['content-type'] ?? '');
    // Browsers cannot send application/json cross-origin without a preflight, which this server never grants.
    if (!/^application\/json\s*(;|$)/i.test(type))
      throw new HttpError(415, 'GMEM5007', 'requests must be JSON (Content-Type: application/json)');
    const text = await readBody(req, maxUpload);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw bad('the request body is not valid JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw bad('the request body is not an object');
    const b = body as Record<string, unknown>;
    const src = b.scenario as Record<string, unknown> | undefined;
    let scenario: Scenario;
    if (src && typeof src === 'object' && typeof src.library === 'string')
      scenario = await library.scenario(src.library);
    else if (src && typeof src === 'object' && typeof src.text === 'string')
      scenario = loadScenario(uploadName(src.name), src.text);
    else throw bad('`scenario` must be {library: ID} or {text: YAML, name?}');
    if (b.token !== undefined && (typeof b.token !== 'string' || b.token.length > 4096))
      throw bad('`token` must be a string');
    return { scenario, options: parseOptions(b.options), token: b.token as string | undefined };
  };

  /** Runs an explorer entry point, cancelled when the page goes away or the job runs too long. */
  const explorerJob = async (
    req: IncomingMessage,
    res: ServerResponse,
    which: 'exploreForUi' | 'variantsForUi',
  ): Promise<void> => {
    const job = await readJob(req);
    const m = await explorer();
    const fn = m?.[which];
    if (!fn) {
      throw new HttpError(
        501,
        'GMEM5009',
        `the concurrency explorer is not in this build: ${which} from src/api/explore-ui.ts is missing`,
        'scenarios without threads can still be run; the explorer is being written',
      );
    }
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('timeout')), jobTimeout);
    res.on('close', () => ac.abort(new Error('client went away')));
    try {
      const result =
        which === 'exploreForUi'
          ? await m.exploreForUi!(job.scenario, job.options, { token: job.token, signal: ac.signal })
          : await m.variantsForUi!(job.scenario, { signal: ac.signal });
      const problem = documentProblem(result);
      if (problem) throw new GmemsimError({ code: 'GMEM3900', message: `the explorer returned ${problem}` });
      sendJson(res, 200, result);
    } catch (e) {
      if (ac.signal.aborted && !res.writableEnded) {
        throw new HttpError(503, 'GMEM5009', `the exploration was stopped after ${Math.round(jobTimeout / 1000)} s`);
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  };

  const meta = async () => {
    const entries: LibraryEntry[] = await library.list();
    return {
      version,
      options: { mm: MM_BEHAVIOURS, error_handler: ERROR_HANDLERS, kernel: KERNEL_VERSIONS },
      defaults: DEFAULT_OPTIONS,
      library: entries,
      initial: classified.doc
        ? { kind: 'document', name: classified.doc.name }
        : classified.scenario
          ? { kind: 'scenario', id: entries.find((e) => e.initial)?.id }
          : null,
      limits: { maxUploadBytes: maxUpload },
      explorer: Boolean((await explorer().catch(() => undefined))?.exploreForUi),
    };
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    checkRequest(req, guard!);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const isGet = method === 'GET' || method === 'HEAD';
    const allow = (methods: string) => {
      throw new HttpError(405, 'GMEM5007', `${method} is not allowed here`, `use ${methods}`);
    };
    if (path.startsWith('/api/')) {
      if (path === '/api/meta') return isGet ? sendJson(res, 200, await meta()) : allow('GET');
      if (path.startsWith('/api/library/')) {
        if (!isGet) return allow('GET');
        const id = decodeURIComponent(path.slice('/api/library/'.length));
        const { file, text } = await library.text(id);
        return sendJson(res, 200, { id, file, text });
      }
      if (path === '/api/initial') {
        if (!isGet) return allow('GET');
        if (!classified.doc) throw new HttpError(404, 'GMEM5008', 'the server was not started with a document');
        const st = await stat(classified.doc.path);
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': String(st.size),
          'Cache-Control': 'no-store',
        });
        return method === 'HEAD' ? void res.end() : pipeFile(classified.doc.path, res);
      }
      if (path === '/api/run') {
        if (method !== 'POST') return allow('POST');
        const job = await readJob(req);
        return sendJson(res, 200, runBundle(job.scenario, job.options));
      }
      if (path === '/api/explore') return method === 'POST' ? explorerJob(req, res, 'exploreForUi') : allow('POST');
      if (path === '/api/variants') return method === 'POST' ? explorerJob(req, res, 'variantsForUi') : allow('POST');
      throw new HttpError(404, 'GMEM5008', `no API ${path.slice(0, 80)}`);
    }
    if (!isGet) return allow('GET');
    if (assetsMissing)
      throw new HttpError(
        500,
        'GMEM5010',
        `the web UI is not built: ${assetsDir} has no index.html`,
        'run `npm run build` in the gmemsim checkout (the npm package ships it built)',
      );
    return serveAsset(assetsRoot, path, res, method === 'HEAD');
  };

  const server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      if (e instanceof GmemsimError) {
        const status = statusOf(e);
        // After refusing a body we will not read, close the connection rather than drain the upload.
        sendError(res, status, e, status === 413 ? { Connection: 'close' } : undefined);
        if (status === 413) res.on('finish', () => req.destroy());
        return;
      }
      process.stderr.write(`gmemsim serve: internal error GMEM3900: ${e instanceof Error ? e.stack : String(e)}\n`);
      sendError(res, 500, new GmemsimError({ code: 'GMEM3900', message: 'internal error; see the server log' }));
    });
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;

  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      fail(
        new GmemsimError({
          code: 'GMEM5004',
          message:
            e.code === 'EADDRINUSE'
              ? `port ${o.port ?? DEFAULT_PORT} on ${host} is in use`
              : `cannot listen on ${host}:${o.port ?? DEFAULT_PORT}: ${e.code ?? e.message}`,
          hint: e.code === 'EADDRINUSE' ? 'pick another with --port N, or --port 0 for any free port' : undefined,
        }),
      );
    });
    server.listen(o.port ?? DEFAULT_PORT, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  guard = guardConfig(port, host, o.allowHosts ?? []);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shownHost}:${port}/`,
    port,
    initialDocument: classified.doc?.name,
    assetsMissing,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
