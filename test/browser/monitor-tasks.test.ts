import { describe, expect, it } from 'vitest';
import type { Task } from '../../server/protocol/index.js';
import {
  consoleText,
  type MonitorSession,
  monitorSuite,
  openMonitor,
  openNewTask,
  screenshot,
} from '../helpers/browser.js';
import { http } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { type JobScript, scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub | undefined;
let session: MonitorSession | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const browser = monitorSuite(() => {
  const open = [session, hub];
  session = undefined;
  hub = undefined;
  return open;
});

const CODE = `import omni.usd
from pxr import UsdGeom

# count the meshes on the open stage
stage = omni.usd.get_context().get_stage()
meshes = [p for p in stage.Traverse() if p.IsA(UsdGeom.Mesh)]
for mesh in meshes[:3]:
    print(f"mesh {mesh.GetPath()}")
len(meshes)  # the result
`;

/** Prints like the code above would, with a warning on stderr, then returns 42. */
const meshScript: JobScript = async (api) => {
  await api.started();
  for (const path of ['/World/Chair', '/World/Table', '/World/Lamp']) {
    await api.output(`mesh ${path}\n`);
    await sleep(30);
  }
  await api.output('Warning: 39 meshes have no material bound\n', 'stderr');
  await api.output('done scanning\n');
  await api.result({ status: 'succeeded', result: 42 });
};

describe('tasks in the monitor', () => {
  it('submits code to a chosen extension and streams its stdout and stderr live', async () => {
    hub = await startTestHub();
    const ext = await scriptedExtension(
      hub.url,
      hub.tokens.extension,
      {
        name: 'kit-viewport',
        labels: ['gpu'],
        capabilities: { hostApp: 'omni.kit', hostVersion: '106.5.0' },
      },
      meshScript,
    );
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page } = session;
    await openNewTask(page, 'code');
    await page.getByTestId('submit-code').fill(CODE);
    await page.getByTestId('submit-target').selectOption(`id:${ext.extensionId}`);
    await page.getByTestId('submit-timeout').fill('30');
    await page.getByTestId('submit-run').click();

    const status = page.getByTestId('task-status');
    await expect.poll(() => status.getAttribute('data-status')).toBe('succeeded');
    const taskId = await page.getByTestId('task-id').textContent();
    expect(page.url()).toContain(`#/tasks/${taskId}`);
    expect(await consoleText(page)).toBe(
      'mesh /World/Chair\nmesh /World/Table\nmesh /World/Lamp\nWarning: 39 meshes have no material bound\ndone scanning\n',
    );
    expect(await page.locator('[data-stream=stderr]').textContent()).toBe(
      'Warning: 39 meshes have no material bound\n',
    );
    expect(await page.getByTestId('ev-done').textContent()).toContain('42');
    expect(await page.getByTestId('task-target').textContent()).toBe(ext.extensionId);
    expect(await page.getByTestId('task-timeout').textContent()).toBe('30.0 s');
    expect(await page.getByTestId('task-attempts').textContent()).toBe('1 of 2');
    // The code is shown highlighted, and the task is in the list with its final status.
    expect(await page.locator('[data-testid=task-code] .tok-kw').first().textContent()).toBe('import');
    expect(await page.getByTestId('task-code').textContent()).toBe(CODE);
    const row = page.locator(`[data-testid=task-row][data-task-id="${taskId}"]`);
    await expect.poll(() => row.getAttribute('data-status')).toBe('succeeded');
    expect((await hub.hub.ctx.tasks.get(taskId ?? ''))?.input).toEqual({ code: CODE });
    await screenshot(page, 'task-view.png');
    expect(session.errors).toEqual([]);
    ext.close();
  });

  it('cancels a running task from its view', async () => {
    hub = await startTestHub();
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit' }, async (api) => {
      await api.started();
      await api.output('working…\n');
      await api.cancelled;
      await api.result({ status: 'cancelled' });
    });
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    const { page } = session;
    await openNewTask(page, 'code');
    await page.getByTestId('submit-code').fill('while True:\n    pass');
    await page.getByTestId('submit-run').click();
    await expect.poll(() => consoleText(page)).toBe('working…\n');
    await page.getByTestId('cancel-task').click();
    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('cancelled');
    await expect.poll(() => ext.cancels.length).toBe(1);
    expect(await page.getByTestId('cancel-task').isHidden()).toBe(true);
    expect(session.errors).toEqual([]);
    ext.close();
  });

  it("shows the hub's refusal when a viewer submits code, starts a workflow or cancels", async () => {
    hub = await startTestHub();
    const queued = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
      code: 'print(1)',
    });
    session = await openMonitor(browser(), hub.url, hub.tokens.viewer);
    const { page } = session;
    await openNewTask(page, 'code');
    await page.getByTestId('submit-code').fill('print("hello")');
    await page.getByTestId('submit-run').click();
    const error = page.getByTestId('submit-error');
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('forbidden');
    expect(await error.textContent()).toMatch(/forbidden.*role "viewer" may not submit/);
    expect(await page.getByRole('alert').filter({ hasText: 'forbidden' }).count()).toBe(1);

    const workflow = page.getByTestId('workflow-form');
    await expect.poll(() => workflow.getAttribute('data-state')).toBe('ready');
    await page.getByTestId('new-task-tab-workflow').click();
    await workflow.getByTestId('workflow-message').fill('hello');
    await workflow.getByTestId('workflow-start').click();
    await expect
      .poll(() => workflow.getByTestId('workflow-error').textContent())
      .toMatch(/forbidden.*may not/);
    await page.getByTestId('new-task-close').click();

    await page.locator(`[data-testid=task-row][data-task-id="${queued.body.id}"] a`).click();
    await page.getByTestId('cancel-task').click();
    await expect
      .poll(() => page.getByTestId('action-error').textContent())
      .toMatch(/forbidden.*may not cancel/);
    expect(await page.getByTestId('task-status').getAttribute('data-status')).toBe('queued');
    expect(session.errors).toEqual([]);
  });

  it('refuses empty code with the field named', async () => {
    hub = await startTestHub();
    session = await openMonitor(browser(), hub.url, hub.tokens.operator);
    await openNewTask(session.page, 'code');
    await session.page.getByTestId('submit-run').click();
    await expect
      .poll(() => session?.page.getByTestId('submit-error').textContent())
      .toMatch(/bad_request.*field: code/);
  });
});
