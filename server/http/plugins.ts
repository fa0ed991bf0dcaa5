import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../context.js';
import { HubError } from '../errors.js';
import { mimeForFile } from '../plugins/media.js';
import { OUTPUTS_ROUTE } from '../plugins/outputs.js';
import { HttpError } from '../protocol/http.js';
import { HUB_VERSION } from '../protocol/index.js';
import {
  ManifestProblem,
  PluginHealth,
  PluginInfo,
  PluginTaskRequest,
  ToolInfo,
} from '../protocol/plugins.js';
import { isTerminal, type TaskEvent } from '../protocol/tasks.js';
import { requireRole } from './auth-hook.js';
import { onClientGone } from './client-gone.js';
import { SeedStream, startParsedSeedTask } from './plugins-seed.js';
import { openSse } from './sse.js';

const errors = { 400: HttpError, 401: HttpError, 403: HttpError, 404: HttpError, 429: HttpError };

/** The seed's tool types, listed even before a plugin serves them. */
const SEED_TOOLS: Record<string, string> = {
  text2image: 'Text to Image',
  image2image: 'Image to Image',
  image2video: 'Image to Video',
  text2video: 'Text to Video',
  speak2video: 'Speak to Video',
  text2speak: 'Text to Speech',
  text2music: 'Text to Music',
};

function displayName(name: string): string {
  return SEED_TOOLS[name] ?? name.replace(/[-_]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase());
}

/**
 * The plugin service's API (seed paths and shapes): health, tools, plugins, execute with SSE, and the output
 * files of plugin tasks. `POST /api/v1/tasks` and `GET /api/v1/tasks/{id}` are shared with the native API
 * (server/http/native.ts), which hands plugin-service bodies and plugin tasks to plugins-seed.ts.
 */
export function pluginRoutes(app: FastifyInstance, ctx: HubContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { config } = ctx;

  r.get(
    '/api/v1/health',
    {
      schema: {
        tags: ['plugins'],
        summary: 'Plugin service health (no token needed)',
        response: { 200: PluginHealth },
      },
    },
    async () => {
      const plugins = ctx.plugins.plugins();
      return {
        status: 'healthy' as const,
        version: HUB_VERSION,
        plugins: plugins.length,
        plugins_ready: plugins.filter((p) => p.state === 'ready').length,
        manifest_errors: ctx.plugins.manifestProblems().length,
      };
    },
  );

  r.get(
    '/api/v1/tools',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['plugins'],
        summary: 'Tool types and the plugins serving them',
        response: { 200: z.array(ToolInfo), ...errors },
      },
    },
    async () => {
      const byName = new Map<string, { description: string; plugins: string[] }>();
      for (const name of Object.keys(SEED_TOOLS)) byName.set(name, { description: '', plugins: [] });
      for (const t of await ctx.plugins.listTools()) {
        const entry = byName.get(t.name) ?? { description: '', plugins: [] };
        if (!entry.description) entry.description = t.description;
        entry.plugins.push(t.plugin);
        byName.set(t.name, entry);
      }
      return [...byName].map(([name, e]) => ({ name, display_name: displayName(name), ...e }));
    },
  );

  r.get(
    '/api/v1/plugins',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['plugins'],
        summary: 'Plugins, their state and tool types',
        response: { 200: z.array(PluginInfo), ...errors },
      },
    },
    async () => ctx.plugins.plugins(),
  );

  r.get(
    '/api/v1/plugins/errors',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['plugins'],
        summary: 'Manifests that did not load, by file and field',
        response: { 200: z.array(ManifestProblem), ...errors },
      },
    },
    async () => ctx.plugins.manifestProblems(),
  );

  r.get(
    '/api/v1/plugins/by-tool/:tool',
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['plugins'],
        summary: 'Plugins serving one tool type',
        params: z.object({ tool: z.string().min(1).max(128) }).strict(),
        response: { 200: z.array(PluginInfo), ...errors },
      },
    },
    async (req) => {
      await ctx.plugins.listTools();
      return ctx.plugins.plugins().filter((p) => p.tool_types.includes(req.params.tool));
    },
  );

  r.post(
    '/api/v1/tasks/execute',
    {
      onRequest: requireRole(ctx, 'submit'),
      // Base64 images ride in the body: room for one at the image limit.
      bodyLimit: Math.max(
        config.maxPayloadBytes,
        Math.ceil((config.resourceMaxImageBytes * 4) / 3) + 1024 * 1024,
      ),
      schema: {
        tags: ['plugins'],
        summary:
          'Run a plugin tool; answers text/event-stream: progress (started, progress, heartbeat, completed, failed) then the result',
        body: PluginTaskRequest,
        response: { 413: HttpError, ...errors },
      },
    },
    async (req, reply) => {
      const task = await startParsedSeedTask(ctx, req.body);
      streamSeed(ctx, task.id, reply);
    },
  );

  r.get(
    `${OUTPUTS_ROUTE}/:taskId/:file`,
    {
      onRequest: requireRole(ctx, 'read'),
      schema: {
        tags: ['plugins'],
        summary: "A plugin task's output file",
        params: z.object({ taskId: z.string().min(1).max(128), file: z.string().min(1).max(255) }).strict(),
      },
    },
    async (req, reply) => {
      const { taskId, file } = req.params;
      // One path segment each, never `..`: the file must be directly in the task's own output folder.
      for (const [field, v] of [
        ['taskId', taskId],
        ['file', file],
      ] as const) {
        if (v !== path.basename(v) || v === '..' || v === '.')
          throw new HubError('bad_request', `${field}: not a plain name`, { field });
      }
      const full = path.join(ctx.plugins.outputsDir, taskId, file);
      const info = await stat(full).catch(() => null);
      if (!info?.isFile()) throw new HubError('not_found', `no output ${file} for task ${taskId}`);
      reply.header('content-type', mimeForFile(file));
      reply.header('content-length', info.size);
      reply.header('cache-control', 'private, max-age=3600');
      return reply.send(createReadStream(full));
    },
  );
}

/** Answers the execute call as the seed's SSE stream: `data:` lines only, so `onmessage` clients see them all. */
function streamSeed(ctx: HubContext, taskId: string, reply: import('fastify').FastifyReply): void {
  const res = openSse(reply, { 'x-task-id': taskId });
  const seed = new SeedStream(ctx, taskId);
  let closed = false;
  const send = (data: unknown, id?: number) => {
    if (!closed) res.write(`${id !== undefined ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
  };
  const heartbeat = setInterval(() => send(seed.heartbeat()), ctx.config.pluginHeartbeatS * 1000);
  let unsubscribe = () => {};
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    res.end();
  };
  const onEvent = (e: TaskEvent) => {
    const outs = seed.map(e);
    for (const [i, out] of outs.entries()) send(out, i === outs.length - 1 ? e.seq : undefined);
    if (e.type === 'status' && isTerminal(e.data.status)) finish();
  };
  // A client that hangs up does not stop the task: poll GET /api/v1/tasks/{task_id} or cancel it.
  onClientGone(reply, finish);
  ctx.tasks.follow(taskId, 0, onEvent).then(
    (stop) => {
      if (closed) stop();
      else unsubscribe = stop;
    },
    () => finish(),
  );
}
