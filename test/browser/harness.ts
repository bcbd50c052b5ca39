/// <reference lib="dom" />
// Shared set-up for the browser tests: Debian's Chromium driven by playwright-core (never a downloaded browser),
// `gmemsim serve` started as users start it, and screenshots saved under artifacts/.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const ROOT = join(import.meta.dirname, '..', '..');
export const ARTIFACTS = join(ROOT, 'artifacts', 'browser');
export const CHROMIUM = process.env.GMEMSIM_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Whether the browser tests can run. In CI a missing browser is a failure (the tests would silently not
 * test anything); on a developer machine they are skipped with a loud message.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const msg =
    `\n\n*** Browser tests need Chromium at ${CHROMIUM} (Debian: apt-get install -y chromium), ` +
    'or GMEMSIM_CHROMIUM=/path/to/chromium. ***\n';
  if (process.env.CI) throw new Error(`${msg}CI=true: refusing to skip the browser tests.`);
  process.stderr.write(`${msg}*** SKIPPING the browser tests. ***\n\n`);
  return false;
}

export function webAssetsBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'web', 'index.html')))
    throw new Error('dist/web is missing: run `npm run build` (the browser tests use the built page)');
}

export interface Served {
  readonly url: string;
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `gmemsim serve --port 0 ...ARGS` and resolves with the URL it prints. */
export function serve(...args: string[]): Promise<Served> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'gmemsim.js'), 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gmemsim serve printed no URL in 15 s:\n${out}\n${err}`)), 15_000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          proc,
          stop: () =>
            new Promise<void>((done) => {
              if (proc.exitCode !== null) return done();
              proc.once('exit', () => done());
              proc.kill('SIGTERM');
            }),
        });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gmemsim serve exited with ${code}:\n${out}\n${err}`));
    });
  });
}

export interface BrowserSession {
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function launch(): Promise<BrowserSession> {
  // playwright-core gives every launch a fresh temporary profile (--user-data-dir) and deletes it on close.
  // No network exists here, so every background service Chromium would contact is switched off.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-default-apps',
      '--disable-dev-shm-usage',
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

export async function newPage(
  s: BrowserSession,
  opts: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await s.browser.newContext({
    viewport: { width: opts.width ?? 1366, height: opts.height ?? 768 },
    colorScheme: opts.colorScheme ?? 'light',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return { context, page, errors };
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
