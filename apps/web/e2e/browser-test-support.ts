/// <reference lib="dom" />
/**
 * The browser tests' harness: the real server as a child process (`aiops start`) on a fresh PGlite
 * directory (or a fresh PostgreSQL database when the test backend is PostgreSQL), the studio built when
 * its sources changed, and Debian's Chromium driven by playwright-core (no browser download).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testDatabaseUrl } from '@aiops/config';
import { createPostgresDatabase, dropPostgresDatabase, seedPgliteDataDir } from '@aiops/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'studio');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface StudioServer {
  url: string;
  /** Everything the server printed (info-level logs: mails without SMTP are logged there). */
  output(): string;
  close(): Promise<void>;
}

/** Builds the studio if needed, then starts `aiops start` on a fresh database and waits until ready. */
export async function startStudio(extraEnv: Record<string, string> = {}): Promise<StudioServer> {
  execFileSync(process.execPath, [path.join(ROOT, 'apps/web/scripts/ensure-build.mjs')], {
    stdio: 'inherit',
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'aiops-studio-e2e-'));
  const admin = testDatabaseUrl();
  const pgUrl = admin ? await createPostgresDatabase(admin) : undefined;
  // A fresh embedded database, already migrated (initdb and the migrations are the cli tests' to prove).
  if (!pgUrl) await seedPgliteDataDir(path.join(dir, 'data'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'info',
    AIOPS_DEMO: 'false',
    ...extraEnv,
  };
  if (pgUrl) env.DATABASE_URL = pgUrl;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'apps/cli/src/main.ts'),
      'start',
      '--port',
      '0',
      '--data-dir',
      path.join(dir, 'data'),
    ],
    { cwd: ROOT, env },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: on a loaded shared machine, migrating a fresh database and loading the app took over a minute.
    const timer = setTimeout(() => {
      // Not left running behind the failed test.
      child.kill('SIGKILL');
      reject(new Error(`server not ready in 180 s: ${out}\n${err}`));
    }, 180_000);
    const check = () => {
      const m = /ready at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}): ${out}\n${err}`));
    });
  });
  return {
    url,
    output: () => out,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
      if (admin && pgUrl) await dropPostgresDatabase(admin, pgUrl);
    },
  };
}

/**
 * A studio server and a Chromium for one test file: both started before its tests, closed after them.
 * Read the fields inside tests and hooks (they are set once the file's `beforeAll` has run).
 */
export function studioPerFile(extraEnv: Record<string, string> = {}): {
  server: StudioServer;
  browser: Browser;
} {
  const studio = {} as { server: StudioServer; browser: Browser };
  beforeAll(async () => {
    [studio.server, studio.browser] = await Promise.all([startStudio(extraEnv), launchBrowser()]);
  }, 240_000);
  afterAll(async () => {
    await studio.browser?.close();
    await studio.server?.close();
  });
  return studio;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Saves a full-page screenshot as test-artifacts/studio/<name>.png. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Drags from one React Flow handle to another with real pointer moves. */
export async function connectHandles(page: Page, from: string, to: string): Promise<void> {
  const edges = page.locator('.react-flow__edge');
  const before = await edges.count();
  // On a loaded machine the canvas may still be moving (fit view after a step was added) or miss a fast
  // drag: wait until the handles stand still, drag, and try again if no connection was drawn.
  // A drag that starts beside the handle pans the canvas instead: before a retry, or whenever a handle is
  // outside the canvas, bring every step back into view with the canvas's fit-view control.
  for (let attempt = 0; attempt < 5; attempt++) {
    let [a, b] = await steadyHandles(page, from, to);
    if (attempt > 0 || !(await onCanvas(page, [a, b]))) {
      await page.locator('.react-flow__controls-fitview').click();
      [a, b] = await steadyHandles(page, from, to);
    }
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 20 });
    await page.mouse.up();
    if (await countReaches(edges, before + 1, 4000)) return;
  }
  throw new Error(`could not connect ${from} → ${to}`);
}

type Point = { x: number; y: number };

async function handleCenters(page: Page, from: string, to: string): Promise<[Point, Point]> {
  const a = await page.locator(`[data-testid="node-${from}"] .react-flow__handle.source`).boundingBox();
  const b = await page.locator(`[data-testid="node-${to}"] .react-flow__handle.target`).boundingBox();
  if (!a || !b) throw new Error(`handles of ${from} → ${to} not on screen`);
  return [
    { x: a.x + a.width / 2, y: a.y + a.height / 2 },
    { x: b.x + b.width / 2, y: b.y + b.height / 2 },
  ];
}

async function onCanvas(page: Page, points: Point[]): Promise<boolean> {
  const box = await page.locator('.react-flow').first().boundingBox();
  if (!box) return false;
  return points.every(
    (p) => p.x > box.x && p.x < box.x + box.width && p.y > box.y && p.y < box.y + box.height,
  );
}

async function steadyHandles(page: Page, from: string, to: string): Promise<[Point, Point]> {
  let last = await handleCenters(page, from, to);
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await handleCenters(page, from, to);
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  return last;
}

async function countReaches(locator: ReturnType<Page['locator']>, n: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while ((await locator.count()) < n) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Clicks the middle of the connection between two steps (a straight edge has no box to click). */
export async function clickEdge(page: Page, from: string, to: string): Promise<void> {
  const a = await page.locator(`[data-testid="node-${from}"] .react-flow__handle.source`).boundingBox();
  const b = await page.locator(`[data-testid="node-${to}"] .react-flow__handle.target`).boundingBox();
  if (!a || !b) throw new Error(`handles of ${from} → ${to} not on screen`);
  const x = (a.x + a.width / 2 + b.x + b.width / 2) / 2;
  const y = (a.y + a.height / 2 + b.y + b.height / 2) / 2;
  // the connection's panel opens on click; on a loaded machine the first click can land before it is ready
  const panel = page.getByLabel('Condition (optional)');
  for (let i = 0; i < 10; i++) {
    await page.mouse.click(x, y);
    if (await panel.isVisible().catch(() => false)) return;
    await panel.waitFor({ state: 'visible', timeout: 1000 }).catch(() => undefined);
    if (await panel.isVisible().catch(() => false)) return;
  }
}

/** Signs up a new account through the studio's form; resolves on the overview page. */
export async function signUpInBrowser(
  page: Page,
  url: string,
  name: string,
): Promise<{ email: string; password: string }> {
  const email = `${name.toLowerCase()}-${Date.now()}@example.com`;
  const password = 'Studio-e2e-Passw0rd!';
  await page.goto(`${url}/signup`);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Organization name').fill(`${name} Labs`);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  return { email, password };
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface A11yViolation {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (the npm package, injected into the page) on what the page shows now; returns the serious
 * and critical violations (rule, impact, what to fix, the elements).
 */
export async function seriousA11yViolations(page: Page): Promise<A11yViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<AxeResult> } }).axe;
    type AxeResult = {
      violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
    };
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? 'unknown',
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The last link of `kind` (`reset-password`, `verify-email`, `accept-invite`) mailed to the server's log. */
export function mailedToken(server: StudioServer, kind: string): string | null {
  const all = [...server.output().matchAll(new RegExp(`/${kind}\\?token=([A-Za-z0-9_-]+)`, 'g'))];
  return all.at(-1)?.[1] ?? null;
}

/**
 * Keeps the page's recent API calls (method, path, status or "no answer", milliseconds) and console
 * errors; `dump()` prints them, for a failing test to say what the studio was waiting for.
 */
export function recordApiCalls(page: Page, keep = 40): { dump: (label: string) => void } {
  const lines: string[] = [];
  const started = new Map<object, number>();
  const push = (line: string) => {
    lines.push(line);
    if (lines.length > keep) lines.shift();
  };
  page.on('request', (r) => {
    if (r.url().includes('/api/')) started.set(r, Date.now());
  });
  page.on('requestfinished', async (r) => {
    const at = started.get(r);
    if (at === undefined) return;
    started.delete(r);
    const status = (await r.response().catch(() => null))?.status() ?? '?';
    push(`${r.method()} ${new URL(r.url()).pathname} → ${status} in ${Date.now() - at} ms`);
  });
  page.on('requestfailed', (r) => {
    const at = started.get(r);
    started.delete(r);
    push(
      `${r.method()} ${new URL(r.url()).pathname} failed (${r.failure()?.errorText}) after ${Date.now() - (at ?? 0)} ms`,
    );
  });
  page.on('console', (m) => {
    if (m.type() === 'error') push(`console: ${m.text().slice(0, 300)}`);
  });
  return {
    dump: (label) => {
      const pending = [...started].map(
        ([r, at]) =>
          `${(r as { method(): string }).method()} ${new URL((r as { url(): string }).url()).pathname} → no answer after ${Date.now() - at} ms`,
      );
      process.stderr.write(`== ${label}: recent API calls ==\n${[...lines, ...pending].join('\n')}\n`);
    },
  };
}
