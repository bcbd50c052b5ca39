// `gmemsim serve`: loopback only, no foreign Host or Origin (DNS rebinding), bounded uploads, no file outside the
// allowed folders, scenarios as data, and the explorer routes answering 501 until the explorer exists.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/server.js';

const root = join(import.meta.dirname, '..', '..');
const fixture = join(root, 'test/fixtures/web/counterexample-fault-vs-mf.json');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): { error?: { code: string; message: string; diagnostics: Array<{ loc?: unknown }> } } & Record<
    string,
    unknown
  >;
}

/** A raw HTTP request, so tests control Host, Origin and lengths exactly (fetch would not let them). */
function req(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, ...opts.headers };
    const r = httpRequest(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, setHost: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
      },
    );
    // The server may close the connection on an oversized upload before we finish sending it.
    r.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e),
    );
    if (opts.body !== undefined) {
      if (opts.chunked) {
        const b = Buffer.from(opts.body);
        for (let i = 0; i < b.length; i += 16384) r.write(b.subarray(i, i + 16384));
      } else r.write(opts.body);
    }
    r.end();
  });
}

const json = (o: unknown) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(o),
});

let s: RunningServer;
let assets: string;
let outside: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gmemsim-serve-'));
  assets = join(dir, 'web');
  mkdirSync(join(assets, 'assets'), { recursive: true });
  writeFileSync(join(assets, 'index.html'), '<!doctype html><title>test page</title>');
  writeFileSync(join(assets, 'assets', 'app-1234.js'), 'console.log(1)');
  outside = join(dir, 'secret.txt');
  writeFileSync(outside, 'SECRET');
  symlinkSync(outside, join(assets, 'assets', 'link.txt'));
  s = await startServer({
    port: 0,
    assetsDir: assets,
    libraryDirs: [join(root, 'scenarios')],
    maxUploadBytes: 4096,
    explorer: async () => undefined,
  });
});

afterAll(async () => {
  await s.close();
});

describe('gmemsim serve: who may connect', () => {
  it('binds 127.0.0.1 by default and prints a loopback URL', () => {
    const a = s.server.address();
    expect(typeof a === 'object' && a?.address).toBe('127.0.0.1');
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/`);
  });

  it('serves the page to requests that name it, with a strict CSP', async () => {
    for (const host of [`127.0.0.1:${s.port}`, `localhost:${s.port}`, `[::1]:${s.port}`]) {
      const r = await req(s.port, '/', { headers: { Host: host } });
      expect(r.status).toBe(200);
      expect(r.body).toContain('test page');
    }
    const r = await req(s.port, '/');
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses a foreign Host (DNS rebinding), a wrong port and a missing Host', async () => {
    for (const host of [
      'evil.example',
      `evil.example:${s.port}`,
      `127.0.0.1:${s.port + 1}`,
      '127.0.0.1',
      `127.0.0.2:${s.port}`,
    ]) {
      const r = await req(s.port, '/api/meta', { headers: { Host: host } });
      expect({ host, status: r.status }).toEqual({ host, status: 403 });
      expect(r.json().error?.code).toBe('GMEM5005');
    }
    const raw = await new Promise<string>((resolve) => {
      const c = connect(s.port, '127.0.0.1', () => c.end('GET /api/meta HTTP/1.0\r\n\r\n'));
      let out = '';
      c.on('data', (d) => {
        out += d.toString();
      });
      c.on('end', () => resolve(out));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 403/);
  });

  it('refuses a foreign Origin and cross-site fetches, on reads and on runs', async () => {
    for (const origin of [
      'http://evil.example',
      `http://evil.example:${s.port}`,
      'null',
      `https://127.0.0.1:${s.port}`,
      `http://localhost:${s.port + 1}`,
    ]) {
      const get = await req(s.port, '/api/meta', { headers: { Origin: origin } });
      expect({ origin, status: get.status }).toEqual({ origin, status: 403 });
      const post = await req(s.port, '/api/run', {
        ...json({ scenario: { library: 'seed-story' } }),
        headers: { 'Content-Type': 'application/json', Origin: origin },
      });
      expect({ origin, status: post.status }).toEqual({ origin, status: 403 });
      expect(post.json().error?.code).toBe('GMEM5005');
    }
    const site = await req(s.port, '/api/meta', { headers: { 'Sec-Fetch-Site': 'cross-site' } });
    expect(site.status).toBe(403);
    const ok = await req(s.port, '/api/meta', {
      headers: { Origin: `http://127.0.0.1:${s.port}`, 'Sec-Fetch-Site': 'same-origin' },
    });
    expect(ok.status).toBe(200);
  });

  it('accepts the names given with --allow-host, and the bind address when it is not a wildcard', async () => {
    const t = await startServer({ port: 0, assetsDir: assets, allowHosts: ['gmemsim.test'] });
    try {
      expect((await req(t.port, '/api/meta', { headers: { Host: `gmemsim.test:${t.port}` } })).status).toBe(200);
      expect((await req(t.port, '/api/meta', { headers: { Host: `other.test:${t.port}` } })).status).toBe(403);
    } finally {
      await t.close();
    }
  });
});

describe('gmemsim serve: uploads', () => {
  it('refuses an upload over the limit by its Content-Length', async () => {
    const text = `name: big\n# ${'x'.repeat(8000)}\nsteps: []\n`;
    const r = await req(s.port, '/api/run', json({ scenario: { text } }));
    expect(r.status).toBe(413);
    expect(r.json().error?.code).toBe('GMEM5006');
  });

  it('refuses an upload over the limit sent without a length (chunked)', async () => {
    const text = `name: big\n# ${'x'.repeat(64 * 1024)}\nsteps: []\n`;
    const r = await req(s.port, '/api/run', { ...json({ scenario: { text } }), chunked: true });
    expect(r.status).toBe(413);
    expect(r.json().error?.code).toBe('GMEM5006');
  });

  it('wants JSON: another Content-Type, a body that is not JSON, or unknown options are refused', async () => {
    const form = await req(s.port, '/api/run', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'scenario=x',
    });
    expect(form.status).toBe(415);
    const notJson = await req(s.port, '/api/run', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    const badOpt = await req(
      s.port,
      '/api/run',
      json({ scenario: { library: 'seed-story' }, options: { mm: 'bogus' } }),
    );
    expect(badOpt.status).toBe(400);
    expect(badOpt.json().error?.message).toContain('options.mm');
    const extra = await req(s.port, '/api/run', json({ scenario: { library: 'seed-story' }, options: { evil: 1 } }));
    expect(extra.status).toBe(400);
  });

  it('answers wrong methods with 405', async () => {
    expect((await req(s.port, '/api/run')).status).toBe(405);
    expect((await req(s.port, '/api/meta', { method: 'POST' })).status).toBe(405);
    expect((await req(s.port, '/', { method: 'DELETE' })).status).toBe(405);
  });
});

describe('gmemsim serve: files', () => {
  it('serves nothing outside the assets folder, however the path is spelled', async () => {
    for (const path of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/assets/..%2f..%2f..%2fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/..%5c..%5csecret.txt',
      '/assets/link.txt',
      '/%00',
      '/assets',
    ]) {
      const r = await req(s.port, path);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect(r.body).not.toContain('SECRET');
    }
    expect((await req(s.port, '/%E0%A4%A')).status).toBe(400);
    const js = await req(s.port, '/assets/app-1234.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toContain('text/javascript');
    expect(js.headers['cache-control']).toContain('immutable');
  });

  it('reads library scenarios by id only', async () => {
    const meta = (await req(s.port, '/api/meta')).json() as { library: Array<{ id: string; threads: string[] }> };
    expect(meta.library.find((e) => e.id === 'seed-story')).toMatchObject({ threads: [] });
    for (const id of ['..%2Fpackage', '../package', '%2e%2e%2fsecret', 'seed-story.yaml']) {
      expect((await req(s.port, `/api/library/${id}`)).status).toBe(404);
      expect((await req(s.port, '/api/run', json({ scenario: { library: decodeURIComponent(id) } }))).status).toBe(404);
    }
    const lib = (await req(s.port, '/api/library/seed-story')).json();
    expect(lib.text).toContain('name: seed story');
  });
});

describe('gmemsim serve: runs', () => {
  it('runs a library scenario and returns its run bundle', async () => {
    const r = await req(
      s.port,
      '/api/run',
      json({ scenario: { library: 'seed-story' }, options: { mm: 'mf-delayed-fix' } }),
    );
    expect(r.status).toBe(200);
    const b = r.json() as {
      format: string;
      options: { mm: string };
      steps: unknown[];
      states: unknown[];
      events: unknown[];
    };
    expect(b.format).toBe('gmemsim-run/1');
    expect(b.options.mm).toBe('mf-delayed-fix');
    expect(b.steps).toHaveLength(12);
    expect(b.states.length).toBe(b.events.length);
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
  });

  it('reports a malformed pasted scenario with file:line:col, under a plain file name', async () => {
    const r = await req(
      s.port,
      '/api/run',
      json({ scenario: { name: '../../etc/passwd', text: 'name: x\nsteps:\n  - {op: KVM_RUN_VCPU}\n' } }),
    );
    expect(r.status).toBe(400);
    const e = r.json().error!;
    expect(e.code).toBe('GMEM1006');
    expect(e.diagnostics[0].loc).toEqual({ file: 'passwd', line: 3, col: 10 });
  });

  it('treats scenario text as data: YAML tags and __proto__ keys do nothing', async () => {
    const texts = [
      'name: !!js/function "function () { globalThis.pwned = 1 }"\nsteps: []\n',
      'name: x\nsteps: []\n__proto__: {polluted: true}\n',
      '{"name": "x", "steps": [], "constructor": {"prototype": {"polluted": true}}}',
    ];
    for (const text of texts) {
      const r = await req(s.port, '/api/run', json({ scenario: { text } }));
      expect(r.status).toBeGreaterThanOrEqual(200);
      expect(r.status).toBeLessThan(500);
    }
    const polluted = await req(s.port, '/api/run', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"__proto__": {"polluted": true}, "scenario": {"library": "seed-story"}}',
    });
    expect(polluted.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((globalThis as Record<string, unknown>).pwned).toBeUndefined();
  });

  it('says a scenario with threads needs the explorer', async () => {
    const text = 'name: t\nsteps: []\nthreads:\n  a:\n    - {op: KVM_CREATE_VM}\n';
    const r = await req(s.port, '/api/run', json({ scenario: { text } }));
    expect(r.status).toBe(422);
    expect(r.json().error?.code).toBe('GMEM3001');
  });
});

describe('gmemsim serve: the explorer routes', () => {
  it('answer 501 with a coded error while src/api/explore-ui.ts does not exist', async () => {
    for (const api of ['/api/explore', '/api/variants']) {
      const r = await req(s.port, api, json({ scenario: { library: 'seed-story' } }));
      expect(r.status).toBe(501);
      expect(r.json().error).toMatchObject({ code: 'GMEM5009' });
      expect(r.json().error?.message).toContain('explore-ui');
    }
  });

  it('pass the explorer its scenario, options and token, and check what it returns', async () => {
    const cx = JSON.parse(readFileSync(fixture, 'utf8'));
    const calls: unknown[] = [];
    const t = await startServer({
      port: 0,
      assetsDir: assets,
      explorer: async () => ({
        exploreForUi: (sc, o, r) => {
          calls.push([sc.name, o, r.token]);
          return r.token === 'garbage' ? { format: 'nonsense' } : cx;
        },
      }),
    });
    try {
      const ok = await req(
        t.port,
        '/api/explore',
        json({ scenario: { library: 'seed-story' }, options: { error_handler: 'rfc-2023' }, token: 'tok' }),
      );
      expect(ok.status).toBe(200);
      expect(ok.json().format).toBe('gmemsim-counterexample/1');
      expect(calls).toEqual([['seed story', { error_handler: 'rfc-2023' }, 'tok']]);
      const bad = await req(t.port, '/api/explore', json({ scenario: { library: 'seed-story' }, token: 'garbage' }));
      expect(bad.status).toBe(500);
      expect(bad.json().error?.code).toBe('GMEM3900');
      expect((await req(t.port, '/api/variants', json({ scenario: { library: 'seed-story' } }))).status).toBe(501);
    } finally {
      await t.close();
    }
  });
});

describe('gmemsim serve FILE and the command line', () => {
  it('opens a run or counterexample file given on the command line', async () => {
    const t = await startServer({ port: 0, assetsDir: assets, file: fixture });
    try {
      const meta = (await req(t.port, '/api/meta')).json();
      expect(meta.initial).toEqual({ kind: 'document', name: 'counterexample-fault-vs-mf.json' });
      const doc = await req(t.port, '/api/initial');
      expect(doc.status).toBe(200);
      expect(doc.body).toBe(readFileSync(fixture, 'utf8'));
    } finally {
      await t.close();
    }
  });

  it('prints its URL, and exits 2 with GMEM5004 when the port is taken', async () => {
    const bin = join(root, 'bin/gmemsim.js');
    const p = spawn(process.execPath, [bin, 'serve', '--port', String(s.port)], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const code = await new Promise<number | null>((resolve) => p.on('exit', resolve));
    expect(code).toBe(2);
    const again = spawnSync(process.execPath, [bin, 'serve', '--port', 'x'], { cwd: root, encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('GMEM5002');
    const q = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const url = await new Promise<string>((resolve) => {
      let out = '';
      q.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
        if (m) resolve(m[0]);
      });
    });
    const port = Number(new URL(url).port);
    expect((await req(port, '/api/meta')).status).toBe(200);
    q.kill('SIGTERM');
    expect(await new Promise((resolve) => q.on('exit', resolve))).toBe(0);
  });
});
