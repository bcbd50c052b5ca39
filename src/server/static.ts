// Serves the built web UI (dist/web) and nothing else: a request path maps to a file under the assets folder
// only after decoding, normalising and resolving symlinks, so "..", encoded slashes and links cannot leave it.
import { createReadStream, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { HttpError, SECURITY_HEADERS } from './http.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

function notFound(): HttpError {
  return new HttpError(404, 'GMEM5008', 'no such file');
}

/** Resolves a URL path to a file inside `root`, or throws 404. `root` must already be a real path. */
export async function resolveAsset(root: string, urlPath: string): Promise<{ file: string; st: Stats }> {
  let p: string;
  try {
    p = decodeURIComponent(urlPath);
  } catch {
    throw new HttpError(400, 'GMEM5007', 'malformed percent-encoding in the path');
  }
  if (p.includes('\0') || p.includes('\\')) throw notFound();
  if (p === '/' || p === '') p = '/index.html';
  const file = resolve(root, `.${p}`);
  if (!file.startsWith(root + sep)) throw notFound();
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    throw notFound();
  }
  if (!real.startsWith(root + sep)) throw notFound();
  const st = await stat(real);
  if (!st.isFile()) throw notFound();
  return { file: real, st };
}

export async function serveAsset(root: string, urlPath: string, res: ServerResponse, head: boolean): Promise<void> {
  const { file, st } = await resolveAsset(root, urlPath);
  const type = TYPES[extname(file)] ?? 'application/octet-stream';
  // Vite puts a content hash in every asset name under assets/, so those never change; index.html does.
  const immutable = file.startsWith(join(root, 'assets') + sep);
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': String(st.size),
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (head) {
    res.end();
    return;
  }
  await pipeFile(file, res);
}

/** Streams a file to the response; big state traces never sit in memory whole. */
export function pipeFile(file: string, res: ServerResponse): Promise<void> {
  return new Promise((ok, fail) => {
    const s = createReadStream(file);
    s.on('error', (e) => {
      res.destroy();
      fail(e);
    });
    s.on('end', () => ok());
    s.pipe(res);
  });
}
