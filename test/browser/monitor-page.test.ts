import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { monitorStatic } from '../../server/http/monitor-static.js';
import {
  type MonitorSession,
  monitorSuite,
  openMonitor,
  openNewTask,
  waitConnected,
} from '../helpers/browser.js';
import { call, http, monitorClient } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub | undefined;
let session: MonitorSession | undefined;
const browser = monitorSuite(() => {
  const open = [session, hub];
  session = undefined;
  hub = undefined;
  return open;
});

describe('the monitor page', () => {
  it('answers a browser with the page (and its assets) and a JSON client with service info', async () => {
    hub = await startTestHub();
    const page = await fetch(`${hub.url}/`, {
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeTruthy();
    const js = await fetch(`${hub.url}/${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const info = await http<{ name: string; version: string }>(hub.url, null, 'GET', '/', undefined, {
      accept: 'application/json',
    });
    expect(info.status).toBe(200);
    expect(info.body.name).toBe('switchboard');
  });

  it('answers 503 with the build command when the monitor is not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sb-no-monitor-'));
    const app = Fastify();
    const monitor = monitorStatic(app as never, empty);
    app.get('/', async (req, reply) => (monitor.wanted(req) ? monitor.send(reply) : { json: true }));
    try {
      const res = await app.inject({ url: '/', headers: { accept: 'text/html' } });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain('npx vite build client/monitor');
      expect((await app.inject({ url: '/', headers: { accept: 'application/json' } })).json()).toEqual({
        json: true,
      });
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('signs in from ?token= once, removes it from the address bar, and keeps it for a reload', async () => {
    hub = await startTestHub();
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page } = session;
    expect(page.url()).toBe(`${hub.url}/`);
    // Kept for this tab only; the token entry in history was replaced, not pushed.
    expect(await page.evaluate(() => sessionStorage.getItem('switchboard.token'))).toBe(hub.tokens.operator);
    await page.goBack();
    expect(page.url()).toBe('about:blank');
    await page.goForward();
    await waitConnected(page);
    await page.reload();
    await waitConnected(page);
    expect(page.url()).not.toContain('token');
    await page.getByTestId('sign-out').click();
    await page.getByTestId('token-input').waitFor();
    expect(session.errors).toEqual([]);
  });

  it('refuses a bad token on the sign-in form and accepts a good one', async () => {
    hub = await startTestHub();
    session = await openMonitor(browser(), hub.url, null);
    const { page } = session;
    await page.getByLabel('Token').fill('sb_not_a_real_token_at_all');
    await page.getByTestId('signin-submit').click();
    await expect.poll(() => page.getByTestId('signin-error').textContent()).toMatch(/refused/i);
    await page.getByLabel('Token').fill(hub.tokens.viewer);
    await page.getByTestId('signin-submit').click();
    await waitConnected(page);
  });

  it('shows an extension come online with its host, labels and jobs, and go offline', async () => {
    hub = await startTestHub();
    session = await openMonitor(browser(), hub.url, hub.tokens.viewer);
    const { page } = session;
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, {
      name: 'Kit Composer',
      labels: ['gpu', 'stage-a'],
      capabilities: { hostApp: 'omni.kit', hostVersion: '106.5.0' },
      concurrency: 2,
    });
    const card = page.locator(`[data-testid=extension][data-extension-id="${ext.extensionId}"]`);
    await expect.poll(() => card.getAttribute('data-online')).toBe('true');
    const textOf = await card.textContent();
    expect(textOf).toContain('Kit Composer');
    expect(textOf).toContain('omni.kit 106.5.0');
    expect(textOf).toContain('gpu');
    expect(textOf).toContain('stage-a');
    expect(await card.getByTestId('extension-jobs').textContent()).toBe('0/2 jobs');
    ext.close();
    await expect.poll(() => card.getAttribute('data-online')).toBe('false');
    expect(await card.textContent()).toContain('Offline');
    expect(session.errors).toEqual([]);
  });

  it("shows a host paused or stuck, and follows its host log in the extension's Log box", async () => {
    hub = await startTestHub({ cancelGraceMs: 60_000 });
    session = await openMonitor(browser(), hub.url, hub.tokens.viewer);
    const { page } = session;
    // A host whose job never ends by itself: it only says the job will not stop when told to stop it.
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'Kit Stuck' }, async (api) => {
      await api.started();
      await api.cancelled;
      await ext.socket.timeout(5_000).emitWithAck('job:stuck', { taskId: api.job.taskId });
    });
    const card = page.locator(`[data-testid=extension][data-extension-id="${ext.extensionId}"]`);
    await expect.poll(() => card.getAttribute('data-online')).toBe('true');
    await expect.poll(() => card.getByTestId('extension-state').count()).toBe(0);

    await ext.socket.timeout(5_000).emitWithAck('host:paused', { paused: true });
    await expect.poll(() => card.getByTestId('extension-state').textContent()).toBe('Paused');
    await ext.socket.timeout(5_000).emitWithAck('host:paused', { paused: false });
    await expect.poll(() => card.getByTestId('extension-state').count()).toBe(0);

    const task = await http<{ id: string }>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
      code: 'import time\ntime.sleep(60)',
      timeoutMs: 1_000,
    });
    await expect
      .poll(() => card.getByTestId('extension-state').textContent(), { timeout: 15_000 })
      .toBe('Stuck');
    expect(await card.getByTestId('extension-state').getAttribute('title')).toContain(task.body.id);

    const line = {
      ts: '2026-12-01T08:00:00.000Z',
      level: 'warn' as const,
      source: 'omni.usd',
      message: 'layer is dirty',
    };
    await ext.socket.timeout(5_000).emitWithAck('host:log', { lines: [line] });
    await card.getByTestId('extension-log-toggle').click();
    await expect
      .poll(() => card.getByTestId('extension-log').textContent())
      .toContain('[omni.usd] layer is dirty');
    await ext.socket.timeout(5_000).emitWithAck('host:log', { lines: [{ ...line, message: 'a live line' }] });
    await expect.poll(() => card.getByTestId('extension-log').textContent()).toContain('a live line');
    expect(session.errors).toEqual([]);
    ext.close();
  });

  it('starts a registered workflow with a message and follows it', async () => {
    hub = await startTestHub();
    const probe = await monitorClient(hub.url, hub.tokens.operator);
    const listed = await call<{ name: string }[]>(probe, 'workflows:list', {});
    probe.close();
    if (!listed.ok) throw new Error(`workflows:list: ${listed.error.message}`);
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page } = session;
    const form = page.getByTestId('workflow-form');
    await expect.poll(() => form.getAttribute('data-state')).toBe('ready');
    await openNewTask(page, 'workflow');
    const names = await form.getByTestId('workflow-select').locator('option').allTextContents();
    expect(names).toEqual(listed.data.map((w) => w.name));
    await form.getByTestId('workflow-select').selectOption('agent_chat');
    expect(await form.getByTestId('workflow-description').textContent()).not.toBe('');
    await form.getByTestId('workflow-message').fill('Say hello to the stage');
    await form.getByTestId('workflow-start').click();
    await expect
      .poll(() => page.getByTestId('task-view').locator('.badge.kind').textContent())
      .toBe('workflow');
    expect(await page.getByTestId('task-input').textContent()).toContain('Say hello to the stage');
    // The hub's built-in offline model answers when no LLM is configured: its tokens stream into the view.
    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('succeeded');
    expect((await page.getByTestId('tokens').first().textContent())?.length).toBeGreaterThan(0);
    expect(session.errors).toEqual([]);
  });

  it('hides "start a workflow" when the hub has no workflows to offer', async () => {
    hub = await startTestHub();
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page } = session;
    await expect.poll(() => page.getByTestId('workflow-form').getAttribute('data-state')).toBe('ready');
    // The same page against a hub that answers workflows:list with an error (an older hub).
    hub.hub.io.of('/monitor').on('connection', (socket) => {
      socket.prependAny((event, ...args) => {
        const ack = args.at(-1);
        if (event === 'workflows:list' && typeof ack === 'function') {
          ack({ ok: false, error: { code: 'bad_request', message: 'workflows:list: unknown event' } });
        }
      });
    });
    await page.evaluate(() => {
      const w = window as unknown as { switchboard?: { dropConnection(): void } };
      w.switchboard?.dropConnection();
    });
    await expect.poll(() => page.getByTestId('workflow-form').getAttribute('data-state')).toBe('unavailable');
    expect(await page.getByTestId('workflow-form').isHidden()).toBe(true);
    expect(await page.getByTestId('new-task-tab-workflow').isHidden()).toBe(true);
  });
});
