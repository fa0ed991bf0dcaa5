import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHub, type Hub } from '../../server/app.js';
import { ConfigError, configFromEnv } from '../../server/config.js';
import { createLogger } from '../../server/log.js';
import type { Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';

describe('the execution plane’s settings, by the names its seed uses', () => {
  it('reads LOG_LEVEL (any case, WARNING), LOG_TRACE_ENABLED, HTTP_TOOL_TIMEOUT and SSE_KEEPALIVE_INTERVAL', () => {
    const config = configFromEnv({
      LOG_LEVEL: 'WARNING',
      LOG_TRACE_ENABLED: 'true',
      HTTP_TOOL_TIMEOUT: '2',
      SSE_KEEPALIVE_INTERVAL: '30',
    });
    expect(config).toMatchObject({
      logLevel: 'warn',
      logTraceEnabled: true,
      httpToolTimeoutS: 2,
      sseKeepaliveS: 30,
    });
    expect(configFromEnv({ LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
    expect(configFromEnv({}).logTraceEnabled).toBe(false);
    // The hub's own name wins when both are set.
    expect(configFromEnv({ LOG_LEVEL: 'DEBUG', SWITCHBOARD_LOG_LEVEL: 'error' }).logLevel).toBe('error');
    expect(() => configFromEnv({ LOG_LEVEL: 'LOUD' })).toThrow(ConfigError);
    expect(() => configFromEnv({ LOG_LEVEL: 'LOUD' })).toThrow(/LOG_LEVEL:/);
    expect(() => configFromEnv({ LOG_TRACE_ENABLED: 'maybe' })).toThrow(/LOG_TRACE_ENABLED:/);
  });

  describe('a hub configured by them', () => {
    let hub: Hub | undefined;
    let model: FakeOpenAI | undefined;
    let stalled: Server | undefined;
    let dir = '';
    afterEach(async () => {
      await hub?.close();
      await model?.close();
      stalled?.closeAllConnections();
      stalled?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('an HTTP tool past HTTP_TOOL_TIMEOUT says it timed out; LOG_TRACE_ENABLED logs the run’s events', async () => {
      // An endpoint that takes the request and never answers.
      stalled = createServer(() => {});
      await new Promise<void>((r) => stalled?.listen(0, '127.0.0.1', r));
      const stalledUrl = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/never`;
      model = await startFakeOpenAI();
      model.script(
        { toolCalls: [{ id: 'call-1', name: 'stalled', arguments: { secret_arg: 'ARG-VALUE-42' } }] },
        { text: 'The service did not answer.' },
      );
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(...chunk.toString().split('\n').filter(Boolean));
          cb();
        },
      });
      dir = mkdtempSync(join(tmpdir(), 'sb-plane-'));
      const config = configFromEnv({
        LOG_LEVEL: 'INFO',
        LOG_TRACE_ENABLED: 'true',
        HTTP_TOOL_TIMEOUT: '1',
        SWITCHBOARD_DATA_DIR: dir,
        PORT: '0',
        SWITCHBOARD_LLM_MAX_RETRIES: '0',
      });
      hub = await buildHub(config, { logger: createLogger(config.logLevel, sink) });
      const url = await hub.listen();
      const { tokens } = hub.ctx.auth;
      const started = await http<Task>(url, tokens.operator, 'POST', '/api/v1/workflows/agent_chat/runs', {
        message: 'call the service',
        task_meta: { trace_id: 'trace-plane-settings' },
        runtime_config: {
          model: { model_name: 'fake', base_url: model.url },
          tools: [{ name: 'stalled', execution_config: { url: stalledUrl } }],
        },
      });
      expect(started.status).toBe(201);
      const taskId = started.body.id;
      await until(
        async () =>
          (await http<Task>(url, tokens.viewer, 'GET', `/api/v1/tasks/${taskId}`)).body.status ===
          'succeeded',
        20_000,
        'run to end',
      );
      const result = (await hub.ctx.tasks.replay(taskId, 0)).find((e) => e.type === 'tool_result');
      expect(result?.type === 'tool_result' && result.data).toMatchObject({
        name: 'stalled',
        isError: true,
        result: { error: 'timed out after 1s' },
      });
      const trace = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l['taskId'] === taskId && typeof l['seq'] === 'number');
      expect(trace.map((l) => l['type'])).toEqual(
        expect.arrayContaining(['status', 'tool_start', 'tool_result', 'done']),
      );
      for (const l of trace) expect(l['traceId']).toBe('trace-plane-settings');
      expect(trace.find((l) => l['type'] === 'tool_result')).toMatchObject({
        tool: 'stalled',
        isError: true,
      });
      expect(lines.join('\n')).not.toContain('ARG-VALUE-42');
    });
  });
});
