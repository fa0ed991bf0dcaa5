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
  const lines = [
    `Switchboard hub listening on ${url}`,
    `  Monitor:    ${publicUrl}/?token=${auth.tokens.admin}`,
    `  OpenAPI:    ${publicUrl}/openapi.json`,
    `  Data dir:   ${config.dataDir}`,
    `  Tokens:     ${auth.tokensFile}${auth.generated ? ' (generated now)' : ''}`,
    `    admin      ${auth.tokens.admin}`,
    `    operator   ${auth.tokens.operator}`,
    `    viewer     ${auth.tokens.viewer}`,
    `    extension  ${auth.tokens.extension}`,
  ];
  // Printed to the terminal (not the log) so tokens never land in log files.
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
