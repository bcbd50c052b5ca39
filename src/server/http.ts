// Small response helpers: every error the server sends is a coded diagnostic as JSON, the same shape the CLI
// prints, so the page can show the code, the message and a hint.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DIAGNOSTICS, type DiagnosticCode } from '../diagnostics/codes.js';
import { type Diagnostic, GmemsimError } from '../diagnostics/errors.js';

export interface ErrorBody {
  readonly error: {
    readonly code: DiagnosticCode;
    readonly title: string;
    readonly message: string;
    readonly diagnostics: readonly Diagnostic[];
  };
}

/** Headers on every response: nothing may frame the page, load it cross-site, or sniff types. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  // No inline script or style and no third-party origin: the page is entirely the bundled assets. Workers are
  // loaded from the same origin (Vite emits them as files), and downloads are made from blob: URLs.
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
    "worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

export class HttpError extends GmemsimError {
  constructor(
    readonly status: number,
    code: DiagnosticCode,
    message: string,
    hint?: string,
  ) {
    super({ code, message, hint });
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    // A length lets the page's loader show determinate progress for big run bundles.
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(text);
}

export function errorBody(e: GmemsimError): ErrorBody {
  return {
    error: { code: e.code, title: DIAGNOSTICS[e.code].title, message: e.message, diagnostics: e.diagnostics },
  };
}

export function sendError(res: ServerResponse, status: number, e: GmemsimError, extra?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, errorBody(e), extra);
}

/** HTTP status for a model or scenario error that escaped a route. */
export function statusOf(e: GmemsimError): number {
  if (e instanceof HttpError) return e.status;
  const cat = e.code.slice(4, 5);
  if (cat === '1' || cat === '2' || cat === '5') return 400;
  if (e.code === 'GMEM3001' || e.code === 'GMEM3901') return 422;
  return 500;
}

/** Reads a request body up to `limit` bytes; larger bodies are refused without being buffered. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    'GMEM5006',
    `the request body is larger than the limit of ${limit} bytes`,
    'scenarios are small; start the server with --max-upload BYTES for a bigger one, or open big run files from disk in the page (they are read in the browser, not uploaded)',
  );
}
