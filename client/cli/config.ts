import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from './args.js';

export const DEFAULT_HUB = 'http://127.0.0.1:4000';

/** The tokens file the hub writes on first start (tokens set in the hub's environment are not in it). */
const TokensFile = z.object({ admin: z.string().min(1).optional(), operator: z.string().min(1).optional() });

/** The role a command needs from the tokens file: operator for everyday work, admin for `hosts`. */
export type FileRole = 'operator' | 'admin';

export interface ConnectionSettings {
  /** One hub URL, or the processes of one scaled-out hub in the order to try them. */
  hubs: string[];
  token: string;
}

/**
 * Hub addresses from `--hub`, then SWITCHBOARD_URL, then the default: one http(s) URL or several,
 * comma-separated (processes of one scaled-out hub; the client moves to the next when one is unreachable).
 */
export function resolveHubs(flag: string | undefined, env: NodeJS.ProcessEnv): string[] {
  const raw = flag ?? (env['SWITCHBOARD_URL'] || DEFAULT_HUB);
  const hubs: string[] = [];
  for (const item of raw.split(',').map((s) => s.trim())) {
    if (item === '') throw new UsageError(`hub address list '${raw}' has an empty entry`);
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new UsageError(`hub address '${item}' is not a URL (e.g. ${DEFAULT_HUB})`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`hub address '${item}' must start with http:// or https://`);
    }
    hubs.push(item.replace(/\/+$/, ''));
  }
  return hubs;
}

/**
 * Token from `--token`, then SWITCHBOARD_TOKEN, then the operator token (admin for admin commands) in the
 * hub's tokens file under SWITCHBOARD_DATA_DIR (default `.switchboard`, relative to the working directory).
 * Least privilege: a CLI that found the file does not act as admin unless the command needs it.
 */
export async function resolveToken(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
  role: FileRole = 'operator',
): Promise<string> {
  const given = flag ?? env['SWITCHBOARD_TOKEN'];
  if (given) return given;
  const path = join(resolve(cwd, env['SWITCHBOARD_DATA_DIR'] || '.switchboard'), 'tokens.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(
      `no token: pass --token, set SWITCHBOARD_TOKEN, or run from the hub's directory (no ${path})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
  const tokens = TokensFile.safeParse(json);
  const token = tokens.success ? tokens.data[role] : undefined;
  if (!token) throw new UsageError(`${path} holds no ${role} token: pass --token or set SWITCHBOARD_TOKEN`);
  return token;
}

export async function resolveSettings(
  flags: { hub?: string | undefined; token?: string | undefined },
  env: NodeJS.ProcessEnv,
  cwd: string,
  role: FileRole = 'operator',
): Promise<ConnectionSettings> {
  const hubs = resolveHubs(flags.hub, env);
  const token = await resolveToken(flags.token, env, cwd, role);
  return { hubs, token };
}
