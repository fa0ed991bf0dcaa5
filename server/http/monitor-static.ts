import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HubError } from '../errors.js';

/** Where `vite build` puts the live monitor (client/monitor/vite.config.ts). */
export const MONITOR_DIST = fileURLToPath(new URL('../../client/monitor/dist/', import.meta.url));
export const MONITOR_BUILD_HINT = 'npx vite build client/monitor';

/** The page loads only its own bundle and talks only to this hub. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
} as const;

export interface MonitorPage {
  /** A browser asking for a page (`Accept` names text/html), not a JSON client. */
  wanted(req: FastifyRequest): boolean;
  /** Sends index.html, or 503 saying how to build it when the build is missing. */
  send(reply: FastifyReply): Promise<string>;
}

/**
 * Serves the built monitor: its hashed bundle under `/assets/` (cached for good) and its page, read on each
 * request so a rebuild shows up without restarting the hub.
 */
export function monitorStatic(app: FastifyInstance, dist = MONITOR_DIST): MonitorPage {
  // In a scope of its own, so its refusals get the handler below rather than the hub's catch-all 500.
  void app.register(async (scope) => {
    scope.setErrorHandler(refusedAsset);
    await scope.register(fastifyStatic, {
      root: join(dist, 'assets'),
      prefix: '/assets/',
      decorateReply: false,
      index: false,
      immutable: true,
      maxAge: '365d',
      // A missing build is reported at `/` with the command that fixes it.
      suppressWarning: true,
    });
  });
  return {
    wanted: (req) => (req.headers.accept ?? '').includes('text/html'),
    async send(reply) {
      let page: string;
      try {
        page = await readFile(join(dist, 'index.html'), 'utf8');
      } catch {
        reply
          .code(503)
          .header('content-type', 'text/html; charset=utf-8')
          .header('cache-control', 'no-store');
        return notBuiltPage();
      }
      reply.headers(PAGE_HEADERS);
      return page;
    },
  };
}

/**
 * `/assets/../../etc/passwd`, `/assets/%00` and the like: @fastify/static refuses them with a 403 or 400
 * error, which is an ordinary bad request, not a hub failure. Answered as a missing asset, logged at info.
 */
function refusedAsset(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode ?? 500;
  if (status >= 500) {
    req.log.error({ err, url: req.url }, 'serving a monitor asset failed');
    reply.code(500).send({ error: new HubError('internal').toBody() });
    return;
  }
  req.log.info({ url: req.url, status }, 'refused a monitor asset path');
  const path = req.url.split('?')[0];
  reply.code(404).send({ error: new HubError('not_found', `no asset ${path}`).toBody() });
}

function notBuiltPage(): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchboard: monitor not built</title></head>',
    '<body style="font-family:system-ui;background:#0d1014;color:#d9e0e8;padding:40px">',
    '<h1>The live monitor is not built</h1>',
    `<p>The hub is running, but <code>client/monitor/dist</code> is missing. Build the page with <code>${MONITOR_BUILD_HINT}</code> and reload.</p>`,
    '<p>The JSON API answers as usual: <a style="color:#5fb3ff" href="/openapi.json">/openapi.json</a>.</p>',
    '</body></html>',
  ].join('\n');
}
