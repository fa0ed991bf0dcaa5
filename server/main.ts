import { buildHub } from './app.js';
import { ConfigError, configFromEnv } from './config.js';
import { DataDirLockedError } from './data-dir-lock.js';

/** Thin entry: config from env, build, listen, print where to go, stop cleanly on signals. */
async function main(): Promise<void> {
  let config: ReturnType<typeof configFromEnv>;
  try {
    config = configFromEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchboard: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const hub = await buildHub(config);
  const url = await hub.listen();
  const publicUrl = config.publicUrl ?? url;
  const { auth } = hub.ctx;
  const fromEnv: Record<string, boolean> = {
    admin: Boolean(config.adminToken),
    operator: Boolean(config.operatorToken),
    viewer: Boolean(config.viewerToken),
    extension: Boolean(config.extensionToken),
  };
  const envRoles = Object.keys(fromEnv).filter((r) => fromEnv[r]);
  // Name the tokens file only when some token lives there; tokens set in the environment are never written.
  const tokensFrom =
    envRoles.length === 4
      ? 'from the environment (SWITCHBOARD_*_TOKEN)'
      : `${auth.tokensFile}${auth.generated ? ' (generated now)' : ''}${envRoles.length ? `; ${envRoles.join(', ')} from the environment` : ''}`;
  const role = (name: keyof typeof auth.tokens) => `    ${name.padEnd(10)} ${auth.tokens[name]}`;
  const lines = [
    `Switchboard hub listening on ${url}`,
    `  Monitor:    ${publicUrl}/?token=${auth.tokens.admin}`,
    `  API docs:   ${publicUrl}/docs (OpenAPI: ${publicUrl}/openapi.json)`,
    `  Metrics:    ${publicUrl}/metrics (viewer token)`,
    `  Data dir:   ${config.dataDir}`,
    `  Tokens:     ${tokensFrom}`,
    role('admin'),
    role('operator'),
    role('viewer'),
    role('extension'),
  ];
  // Log lines written so far go out first, so none lands inside the banner.
  await new Promise<void>((resolve) => hub.ctx.logger.flush(() => resolve()));
  // Printed to the terminal (not the log) so tokens never land in log files; one write, so nothing interleaves.
  process.stdout.write(`${lines.join('\n')}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    hub.ctx.logger.info({ signal }, 'shutting down');
    await hub.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof DataDirLockedError) {
    process.stderr.write(`switchboard: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`switchboard: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
