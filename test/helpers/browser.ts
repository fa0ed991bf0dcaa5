import { type Dirent, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, vi } from 'vitest';
import type { Register, Task } from '../../server/protocol/index.js';
import type { TaskService } from '../../server/tasks/service.js';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.js';
import { startTestHub, type TestHub } from './hub.js';
import { type JobScript, type ScriptedExtension, scriptedExtension } from './scripted-extension.js';

const MONITOR_DIR = fileURLToPath(new URL('../../client/monitor/', import.meta.url));
const BUILT_PAGE = join(MONITOR_DIR, 'dist', 'index.html');
const BUILD_LOCK = join(
  tmpdir(),
  `switchboard-monitor-build-${Buffer.from(MONITOR_DIR).toString('hex').slice(-24)}.lock`,
);
/** The test output dir (git-ignored; `SWITCHBOARD_TEST_OUTPUT` moves it, e.g. to a CI artifact folder). */
export const ARTIFACTS_DIR =
  process.env['SWITCHBOARD_TEST_OUTPUT'] ?? fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
/** Sources outside the monitor folder that its bundle imports (the shared client core). */
const SHARED_SOURCES = [fileURLToPath(new URL('../../client/core/', import.meta.url))];

/** Debian's Chromium; never a downloaded browser. */
const CHROMIUM = process.env['SWITCHBOARD_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function newestSource(dir = join(MONITOR_DIR, 'src')): number {
  let newest = Math.max(mtime(join(MONITOR_DIR, 'index.html')), mtime(join(MONITOR_DIR, 'vite.config.ts')));
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return newest;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : mtime(path));
  }
  return newest;
}

const isFresh = () =>
  mtime(BUILT_PAGE) > Math.max(newestSource(), ...SHARED_SOURCES.map((dir) => newestSource(dir)));

/** One build at a time across vitest's worker processes: a lock directory, taken over when stale. */
async function withBuildLock(fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch {
      if (Date.now() - mtime(BUILD_LOCK) > 60_000) rmSync(BUILD_LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`monitor build lock ${BUILD_LOCK} is held too long`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    await fn();
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}

let building: Promise<void> | undefined;

/** Builds the monitor with Vite once per test run; skipped when dist is newer than every source file. */
export function buildMonitor(): Promise<void> {
  building ??= (async () => {
    if (isFresh()) return;
    await withBuildLock(async () => {
      if (isFresh()) return; // another worker built it while we waited
      const { build } = await import('vite');
      await build({ configFile: join(MONITOR_DIR, 'vite.config.ts'), logLevel: 'warn' });
    });
  })();
  return building;
}

/**
 * The hooks every browser suite needs: build the page and launch Chromium once per file; after each test,
 * close what `toClose` hands over (its session, then its hub). Returns the browser once launched.
 */
export function monitorSuite(toClose: () => Array<{ close(): Promise<void> } | undefined>): () => Browser {
  // A real browser on a busy 2-core box: give polled expectations room.
  vi.setConfig({ expect: { poll: { timeout: 10_000 } } });
  let browser: Browser | undefined;
  // The build (vite) and Chromium's start can take minutes on a loaded 2-core machine.
  beforeAll(async () => {
    await buildMonitor();
    browser = await launchBrowser();
  }, 300_000);
  afterAll(() => browser?.close());
  afterEach(async (ctx) => {
    const failed = ctx.task.result?.state === 'fail';
    for (const item of toClose()) {
      // A failing run keeps what the user saw: the page as it was when the test gave up.
      if (failed && item && 'page' in item) await viewShot((item as MonitorSession).page, 'at-failure');
      await item?.close();
    }
  });
  return () => {
    if (!browser) throw new Error('the browser is not launched yet');
    return browser;
  };
}

type Closeable = { close(): Promise<void> };

export interface MonitorTestKit {
  /** Chromium, launched once for the file. */
  browser(): Browser;
  /** A real hub on port 0 (`startTestHub`), closed after the test. */
  hub(config?: Parameters<typeof startTestHub>[0]): Promise<TestHub>;
  /** The local OpenAI-compatible test server, closed after the test. */
  model(): Promise<FakeOpenAI>;
  /** A scripted extension on the hub, disconnected after the test. */
  extension(hub: TestHub, registration: Register, script?: JobScript): Promise<ScriptedExtension>;
  /** The monitor in a fresh browser context, signed in with `token` (operator by default). */
  open(
    hub: TestHub,
    opts?: Parameters<typeof openMonitor>[3] & { token?: string | null },
  ): Promise<MonitorSession>;
}

/**
 * What every browser suite starts with, as one disposable kit: the monitor built and Chromium launched once
 * per file; hubs, fake models, scripted extensions and pages made through it are closed after each test
 * (pages first, so a failing test's screenshot shows the page as the user saw it).
 */
export function monitorTestHub(): MonitorTestKit {
  let sessions: MonitorSession[] = [];
  let others: Closeable[] = [];
  const browser = monitorSuite(() => {
    const out = [...sessions, ...others.reverse()];
    sessions = [];
    others = [];
    return out;
  });
  return {
    browser,
    async hub(config = {}) {
      const hub = await startTestHub(config);
      others.push(hub);
      return hub;
    },
    async model() {
      const model = await startFakeOpenAI();
      others.push(model);
      return model;
    },
    async extension(hub, registration, script) {
      const ext = await scriptedExtension(hub.url, hub.tokens.extension, registration, script);
      others.push({ close: async () => void ext.socket.disconnect() });
      return ext;
    },
    async open(hub, opts = {}) {
      const { token = hub.tokens.operator, ...rest } = opts;
      const session = await openMonitor(browser(), hub.url, token, rest);
      // A click that cannot happen fails with its locator instead of hanging until the test's timeout.
      session.page.setDefaultTimeout(15_000);
      sessions.push(session);
      return session;
    },
  };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface MonitorSession {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors: a test ends by expecting none. */
  errors: string[];
  close(): Promise<void>;
}

/** A fresh browser context on the hub's monitor, signed in through `?token=` when a token is given. */
export async function openMonitor(
  browser: Browser,
  hubUrl: string,
  token: string | null,
  opts: { hash?: string; waitConnected?: boolean; viewport?: { width: number; height: number } } = {},
): Promise<MonitorSession> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1440, height: 900 },
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  await page.goto(`${hubUrl}/${query}${opts.hash ?? ''}`);
  if (token && opts.waitConnected !== false) await waitConnected(page);
  return { context, page, errors, close: () => context.close() };
}

export async function waitConnected(page: Page): Promise<void> {
  await page.locator('[data-testid=connection][data-state=connected]').waitFor({ timeout: 10_000 });
}

/** Everything the task view's consoles show, in order (stdout and stderr runs together). */
export function consoleText(page: Page): Promise<string> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('[data-testid=console]'), (el) => el.textContent ?? '').join(''),
  );
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, name);
  await page.screenshot({ path });
  return path;
}

/**
 * A screenshot of one view, saved under the test output dir as `<test file>/<test name>/<view>.png`, so
 * every run leaves a picture of each view it checked (and a failing one, of what went wrong). Never in the
 * repo: the dir is git-ignored. Returns the path, or '' when the page is already gone.
 */
export async function viewShot(page: Page, view: string): Promise<string> {
  const state = expect.getState();
  const file = basename(state.testPath ?? 'unknown').replace(/\.test\.ts$/, '');
  const dir = join(ARTIFACTS_DIR, 'views', slug(file), slug(state.currentTestName ?? 'outside-a-test'));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${slug(view)}.png`);
  try {
    await page.screenshot({ path, fullPage: false });
    return path;
  } catch {
    return '';
  }
}

function slug(text: string): string {
  return (
    text
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 120) || 'x'
  );
}

/** Opens the "New task" dialog on the given form (`code` or `workflow`) and waits until it shows. */
export async function openNewTask(page: Page, form: 'code' | 'workflow' | 'flowgram'): Promise<void> {
  await page.getByTestId('new-task').click();
  await page.getByTestId(`new-task-tab-${form}`).click();
  await page.locator(`[data-testid=new-task-dialog][open] [data-testid=new-task-${form}]:visible`).waitFor();
}

/**
 * Starts recording the longest gap between animation frames in the page; the returned function stops
 * and reports it. A page that freezes under load shows a long gap.
 */
export async function watchFrames(page: Page): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    const w = window as unknown as { __frames: { max: number; last: number; on: boolean } };
    w.__frames = { max: 0, last: performance.now(), on: true };
    const tick = (now: number) => {
      const f = w.__frames;
      f.max = Math.max(f.max, now - f.last);
      f.last = now;
      if (f.on) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  return () =>
    page.evaluate(() => {
      const f = (window as unknown as { __frames: { max: number; on: boolean } }).__frames;
      f.on = false;
      return f.max;
    });
}

/**
 * A running workflow task driven straight through the hub's task service, so a test can append the events
 * a LangGraph run produces (tokens, tool calls, node progress) at the pace it wants.
 */
export function runningWorkflow(tasks: TaskService, message: string): Task {
  const task = tasks.create({
    kind: 'workflow',
    input: { workflow: 'omniverse_agent', message },
    timeoutMs: 300_000,
    maxAttempts: 1,
  });
  return tasks.transition(task.id, 'running', 'started');
}
