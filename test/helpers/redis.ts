import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export interface RedisServer {
  url: string;
  port: number;
  /** Deletes every key (between test files sharing the server). */
  flush(): Promise<void>;
  /** kill -9, as a crash. */
  kill(): void;
  /** Starts it again on the same port (after `kill`). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function spawnRedis(port: number, args: readonly string[]): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 20_000);
    const seen = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        proc.stdout?.off('data', seen);
        resolve(proc);
      }
    };
    proc.stdout?.on('data', seen);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });
}

/** A real redis-server on a free port, no persistence: a throwaway store for one test worker. */
export async function startRedis(args: readonly string[] = []): Promise<RedisServer> {
  const port = await freePort();
  let proc = await spawnRedis(port, args);
  const url = `redis://127.0.0.1:${port}`;
  const onExit = () => proc.kill('SIGKILL');
  process.once('exit', onExit);
  return {
    url,
    port,
    async flush() {
      const c = new Redis(url, { lazyConnect: true });
      await c.connect();
      await c.flushall();
      await c.quit();
    },
    kill() {
      proc.kill('SIGKILL');
    },
    async restart() {
      proc = await spawnRedis(port, args);
    },
    async stop() {
      process.off('exit', onExit);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await gone;
    },
  };
}
