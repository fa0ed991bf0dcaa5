import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { BenchReply, BenchRequest, ServerKind } from './protocol.js';

/** Whether server and load can each have a core of their own (`taskset` present, at least two cores). */
export const PINNED = (() => {
  if (cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Pins every thread of a process to one core; a no-op where taskset is missing or the core is not ours. */
export function pin(pid: number, core: number): void {
  if (!PINNED) return;
  try {
    execFileSync('taskset', ['-a', '-cp', String(core), String(pid)], { stdio: 'ignore' });
  } catch {
    console.warn(`bench: could not pin ${pid} to core ${core}; running unpinned`);
  }
}

/** Raises the open-files limit of a process (many sockets); best effort, to the hard limit if not root. */
export function raiseFileLimit(pid: number, want: number): void {
  for (const spec of [`${want}:${want}`, `${want}`]) {
    try {
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${spec}`], { stdio: 'ignore' });
      return;
    } catch {
      // not permitted at that value: try the soft limit only, then give up
    }
  }
}

/** This process's open-files limit (soft), from /proc; children inherit it. */
export function fileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = Number(line?.split(/\s{2,}/)[1]);
  return Number.isFinite(soft) ? soft : 65_536;
}

const TICKS_PER_S = 100; // USER_HZ on Linux

/** User + system CPU of a process (all its threads) in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), so count from the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / TICKS_PER_S;
}

export interface BenchServer {
  kind: ServerKind;
  url: string;
  pid: number;
  cpuMs(): number;
  request<C extends BenchRequest['cmd']>(
    req: Extract<BenchRequest, { cmd: C }>,
  ): Promise<Extract<BenchReply, { cmd: C }>>;
  stop(): Promise<void>;
}

/** Starts a server process (test/bench/server.ts) on core 0 and waits until it listens. */
export async function startServer(kind: ServerKind, llmUrl = ''): Promise<BenchServer> {
  const child: ChildProcess = fork(new URL('./server.ts', import.meta.url).pathname, [kind, llmUrl], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const pid = child.pid ?? 0;
  raiseFileLimit(pid, 65_536);
  const waiters: Array<(m: BenchReply) => void> = [];
  child.on('message', (m) => waiters.shift()?.(m as BenchReply));
  const next = () => new Promise<BenchReply>((resolve) => waiters.push(resolve));
  const ready = await Promise.race([
    next(),
    new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`))),
    ),
  ]);
  if (ready.cmd !== 'ready') throw new Error(`${kind} server: unexpected ${ready.cmd}`);
  pin(pid, 0);
  return {
    kind,
    url: ready.url,
    pid,
    cpuMs: () => cpuMs(pid),
    request: async (req) => {
      const answer = next();
      child.send(req);
      return (await answer) as never;
    },
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ cmd: 'exit' });
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      child.kill('SIGKILL');
    },
  };
}

/** Pins this process (the load) to core 1, so it never competes with the server for its core. */
export function pinLoad(): void {
  pin(process.pid, 1);
  raiseFileLimit(process.pid, 65_536);
}
