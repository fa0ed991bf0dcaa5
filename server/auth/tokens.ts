import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Role } from '../protocol/common.js';

export type TokenSet = Record<Role, string>;

const TokenFile = z.object({
  admin: z.string().min(16),
  operator: z.string().min(16),
  viewer: z.string().min(16),
  extension: z.string().min(16),
});

export const TOKENS_FILE = 'tokens.json';

function generate(role: Role): string {
  return `sb_${role.slice(0, 3)}_${randomBytes(24).toString('base64url')}`;
}

function readStored(file: string): Partial<TokenSet> {
  if (!existsSync(file)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(
      `${file} is not valid JSON (${(err as Error).message}); fix it, or delete it to generate new tokens`,
    );
  }
  const parsed = TokenFile.partial().strict().safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    throw new Error(
      `${file}: ${where}: ${issue?.message ?? 'invalid'}; fix it, or delete it to generate new tokens`,
    );
  }
  return parsed.data;
}

/**
 * Tokens from config win; the rest come from `<dataDir>/tokens.json`, created (mode 0600) on first start.
 * Configured tokens are never written to disk. Returns whether any token was generated now, so main can
 * print them once.
 */
export function loadTokens(
  dataDir: string,
  configured: Partial<TokenSet>,
): { tokens: TokenSet; generated: boolean; file: string } {
  const file = join(dataDir, TOKENS_FILE);
  const stored = readStored(file);
  const roles: Role[] = ['admin', 'operator', 'viewer', 'extension'];
  const tokens = {} as TokenSet;
  const toStore: Partial<TokenSet> = {};
  let generated = false;
  for (const role of roles) {
    const fromConfig = configured[role];
    const kept = stored[role];
    if (fromConfig) tokens[role] = fromConfig;
    else if (kept) tokens[role] = toStore[role] = kept;
    else {
      tokens[role] = toStore[role] = generate(role);
      generated = true;
    }
  }
  const distinct = new Set(Object.values(tokens));
  if (distinct.size !== roles.length) throw new Error('each role needs its own token; two roles share one');
  if (generated) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(toStore, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { tokens, generated, file };
}

/** Maps a presented token to its role in constant time per candidate. */
export class TokenAuthenticator {
  private readonly entries: Array<[Buffer, Role]>;

  constructor(tokens: TokenSet) {
    this.entries = (Object.entries(tokens) as Array<[Role, string]>).map(([role, t]) => [
      Buffer.from(t),
      role,
    ]);
  }

  roleOf(token: string | undefined | null): Role | null {
    if (!token) return null;
    const presented = Buffer.from(token);
    let found: Role | null = null;
    for (const [candidate, role] of this.entries) {
      if (candidate.length === presented.length && timingSafeEqual(candidate, presented)) found = role;
    }
    return found;
  }
}

/** Pulls a bearer token from an Authorization header value. */
export function bearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return m?.[1] ?? null;
}
