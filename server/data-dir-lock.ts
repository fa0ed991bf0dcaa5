import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'hub.lock';

/** Another hub holds the data dir: starting would run restart recovery on its live tasks. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the data dir ${dataDir} is in use by another hub (pid ${pid}); stop it, or give this hub its own SWITCHBOARD_DATA_DIR`,
    );
  }
}

interface LockBody {
  pid: number;
  host: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockBody | null {
  try {
    const body = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockBody>;
    return typeof body.pid === 'number' ? (body as LockBody) : null;
  } catch {
    return null;
  }
}

/** Held by one hub at a time, in this process or another; the hub a lock was taken for. */
const heldHere = new Set<string>();

/**
 * Takes the data dir for this hub before anything reads or writes it: `<dataDir>/hub.lock` is created
 * exclusively (O_EXCL) with this process's pid. A lock left by a process that is gone (kill -9, a crash) is
 * taken over; one held by a live process, or by another hub in this process, is refused with
 * DataDirLockedError naming its pid. Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const body: LockBody = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let tries = 0; ; tries++) {
    try {
      writeFileSync(file, `${JSON.stringify(body)}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 2) throw err;
      const held = readLock(file);
      const sameHost = !held || held.host === body.host;
      if (held && (!sameHost || (held.pid === process.pid ? heldHere.has(dir) : alive(held.pid)))) {
        throw new DataDirLockedError(dir, held.pid);
      }
      // Stale (its process is gone) or unreadable (a crash mid-write): take it over.
      rmSync(file, { force: true });
    }
  }
  heldHere.add(dir);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    heldHere.delete(dir);
    if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
  };
}
