#!/usr/bin/env node
// Entry of the `switchboard` command. The CLI is TypeScript run through tsx; its loader is registered
// without the caller's tsconfig so whatever project the command is run from cannot change how it compiles.
import { register } from 'tsx/esm/api';

register({ tsconfig: false });
// A reader that stops early (`switchboard tasks --json | head -1`) is not an error: end quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Let stdout drain and sockets close on their own; a keep-alive connection must not hold the shell.
setTimeout(() => process.exit(code), 2000).unref();
