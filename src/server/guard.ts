// Who may talk to the server. It listens on loopback, but a web page from any site can still make the browser
// send requests to 127.0.0.1 (and DNS rebinding makes such a page same-origin with a name the attacker
// controls). So every request must name this server in Host, and a browser request must come from a page this
// server served (Origin, Sec-Fetch-Site).
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http.js';

export interface GuardConfig {
  /** the port actually bound (after --port 0 picked one) */
  readonly port: number;
  /** host names (without port) accepted in Host and Origin; loopback names are always in it */
  readonly hosts: ReadonlySet<string>;
}

export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'] as const;

export function guardConfig(port: number, bindHost: string, allowHosts: readonly string[]): GuardConfig {
  const hosts = new Set<string>(LOOPBACK_NAMES);
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '';
  if (!wildcard) hosts.add(bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost);
  for (const h of allowHosts) hosts.add(h.toLowerCase());
  return { port, hosts };
}

/** Splits "name:port" (or "[v6]:port"); the port defaults to 80 as HTTP says. */
function parseHostPort(v: string): { name: string; port: number } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(v.trim());
  if (!m) return undefined;
  return { name: m[1].toLowerCase(), port: m[2] === undefined ? 80 : Number(m[2]) };
}

function refuse(what: string, value: string | undefined): HttpError {
  return new HttpError(
    403,
    'GMEM5005',
    `${what} ${value === undefined ? 'is missing' : `"${value.slice(0, 100)}" is not this server`}`,
    'open the page at the URL `gmemsim serve` printed; to reach it under another name, start it with --allow-host NAME',
  );
}

export function checkRequest(req: IncomingMessage, g: GuardConfig): void {
  const host = req.headers.host;
  const hp = host === undefined ? undefined : parseHostPort(host);
  if (!hp || !g.hosts.has(hp.name) || hp.port !== g.port) throw refuse('Host', host);
  const origin = req.headers.origin;
  if (origin !== undefined) {
    // "null" comes from sandboxed frames, file: pages and some redirects: never this server's own page.
    const m = /^http:\/\/(.+)$/.exec(origin);
    const op = m ? parseHostPort(m[1]) : undefined;
    if (!op || !g.hosts.has(op.name) || op.port !== g.port) throw refuse('Origin', origin);
  }
  // Browsers that send Fetch Metadata tell us outright when another site made the request.
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw refuse('Sec-Fetch-Site', String(site));
}
