import { describe, expect, it } from 'vitest';
import { monitorTestHub, openNewTask, viewShot } from '../helpers/browser.js';
import { code, single, start } from '../helpers/flowgram-schemas.js';

/**
 * The New task dialog's FlowGram tab: what `switchboard flow run SCHEMA --inputs FILE` does, from the monitor.
 * Bad JSON, a schema the hub refuses and inputs that are not an object are each named before anything runs;
 * a good schema starts a flowgram task and the dialog opens it.
 */
const kit = monitorTestHub();

const GREET = `async function main({ params }) {
  return { result: 'hello ' + params.name };
}`;
const schema = single(code('code_0', GREET, { name: ['start_0', 'name', 'string'] }), 'result', 'string', {
  name: { type: 'string' },
});

describe('the New task dialog starts a FlowGram run', () => {
  it('names a JSON or schema problem, then runs a good schema and opens its task', async () => {
    const hub = await kit.hub({ store: 'memory' });
    const { page, errors } = await kit.open(hub);
    await openNewTask(page, 'flowgram');
    const error = page.getByTestId('flowgram-error');
    const run = page.getByTestId('flowgram-start');

    // Not JSON: the line and column, before the hub is asked.
    await page.getByTestId('flowgram-schema').fill('{\n  "nodes": [\n    {"id": "start_0",}\n  ]\n}');
    await run.click();
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('bad_request');
    expect(await error.getAttribute('data-field')).toBe('schema');
    expect(await error.textContent()).toMatch(/The schema is not valid JSON at line 3, column \d+/);

    // JSON, but not a workflow FlowGram can run: the hub's reasons, one per line.
    await page.getByTestId('flowgram-schema').fill(JSON.stringify({ nodes: [start()], edges: [] }, null, 2));
    expect(await error.isVisible()).toBe(false);
    await run.click();
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('invalid_schema');
    const problems = await page.getByTestId('flowgram-problems').locator('li').allTextContents();
    expect(problems).toEqual(['Workflow schema must have an end node']);
    expect(await error.textContent()).toMatch(/^The schema is not valid \(1 problem\):/);

    // Inputs must be an object.
    await page.getByTestId('flowgram-schema').fill(JSON.stringify(schema, null, 2));
    await page.getByTestId('flowgram-inputs').fill('["kit"]');
    await run.click();
    await error.waitFor();
    expect(await error.getAttribute('data-field')).toBe('inputs');
    expect(await error.textContent()).toContain('The inputs must be a JSON object, not an array.');
    // Nothing was started by any of that.
    expect((await hub.hub.ctx.tasks.list({ limit: 10 })).tasks).toEqual([]);

    // Check validates without running.
    await page.getByTestId('flowgram-inputs').fill('{"name": "kit"}');
    await page.getByTestId('flowgram-validate').click();
    await page.getByTestId('flowgram-valid').waitFor();
    expect(await page.getByTestId('flowgram-valid').textContent()).toContain('valid');
    expect((await hub.hub.ctx.tasks.list({ limit: 10 })).tasks).toEqual([]);
    await viewShot(page, 'new-task-flowgram');

    // Run: the dialog closes and the task opens, and runs to the end.
    await run.click();
    await expect.poll(() => page.getByTestId('task-status').getAttribute('data-status')).toBe('succeeded');
    expect(await page.getByTestId('new-task-dialog').isVisible()).toBe(false);
    const taskId = (await page.getByTestId('task-view').getAttribute('data-task-id')) ?? '';
    const task = await hub.hub.ctx.tasks.get(taskId);
    expect(task?.kind).toBe('flowgram');
    expect(task?.input['inputs']).toEqual({ name: 'kit' });
    expect(task?.result).toEqual({ out: 'hello kit' });
    expect(errors).toEqual([]);
  });
});
