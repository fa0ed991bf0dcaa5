import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { http } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { ScriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub;
afterEach(async () => {
  await hub?.close();
});

const register = async (id: string, secret: string | undefined) => {
  const ext = new ScriptedExtension(hub.url, hub.tokens.extension, { id, name: id, secret });
  try {
    return await ext.start();
  } finally {
    ext.close();
  }
};

describe('host identities set up by the admin', () => {
  it('issues a secret ahead of time (admin only); only a host with it registers; forget frees the id', async () => {
    hub = await startTestHub();
    const denied = await http(hub.url, hub.tokens.operator, 'POST', '/api/v1/hosts/render-01/secret');
    expect(denied.status).toBe(403);
    const issued = await http<{ id: string; secret: string }>(
      hub.url,
      hub.tokens.admin,
      'POST',
      '/api/v1/hosts/render-01/secret',
    );
    expect(issued.status).toBe(201);
    expect(issued.body.secret).toMatch(/^shs_/);
    await expect(register('render-01', undefined)).rejects.toThrow(/forbidden/);
    expect(await register('render-01', issued.body.secret)).toMatchObject({ extensionId: 'render-01' });
    // Rotation: the old secret stops working.
    const rotated = await http<{ secret: string }>(
      hub.url,
      hub.tokens.admin,
      'POST',
      '/api/v1/hosts/render-01/secret',
    );
    await expect(register('render-01', issued.body.secret)).rejects.toThrow(/forbidden/);
    expect(await register('render-01', rotated.body.secret)).toMatchObject({ extensionId: 'render-01' });
    const forgot = await http(hub.url, hub.tokens.admin, 'DELETE', '/api/v1/hosts/render-01/secret');
    expect(forgot.body).toEqual({ id: 'render-01', forgotten: true });
    expect((await register('render-01', undefined)).hostSecret).toMatch(/^shs_/);
  });

  it('switchboard hosts add ID prints the secret; hosts forget ID drops it', {
    timeout: 60_000,
  }, async () => {
    hub = await startTestHub();
    const env = { SWITCHBOARD_URL: hub.url, SWITCHBOARD_TOKEN: hub.tokens.admin };
    const add = await runCli(['hosts', 'add', 'cli-render'], env);
    expect(add.code).toBe(0);
    const secret = add.stdout.trim();
    expect(secret).toMatch(/^shs_/);
    expect(await register('cli-render', secret)).toMatchObject({ extensionId: 'cli-render' });
    const forget = await runCli(['hosts', 'forget', 'cli-render'], env);
    expect(forget.stdout.trim()).toBe('cli-render forgotten');
    expect(forget.code).toBe(0);
  });
});
