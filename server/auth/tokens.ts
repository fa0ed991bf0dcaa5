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

/**
 * Tokens from config win; the rest come from `<dataDir>/tokens.json`, created (mode 0600) on first start.
 * Returns the set and whether any token was generated now, so main can print them once.
 */
export function loadTokens(
  dataDir: string,
  configured: Partial<TokenSet>,
): { tokens: TokenSet; generated: boolean; file: string } {
  const file = join(dataDir, TOKENS_FILE);
  let stored: Partial<TokenSet> = {};
  if (existsSync(file)) {
    const parsed = TokenFile.partial().safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) stored = parsed.data;
  }
  const roles: Role[] = ['admin', 'operator', 'viewer', 'extension'];
  let generated = false;
  const tokens = {} as TokenSet;
  for (const role of roles) {
    const fromConfig = configured[role];
    const fromFile = stored[role];
    if (fromConfig) tokens[role] = fromConfig;
    else if (fromFile) tokens[role] = fromFile;
    else {
      tokens[role] = generate(role);
      generated = true;
    }
  }
  if (generated || !existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  const distinct = new Set(Object.values(tokens));
  if (distinct.size !== roles.length) throw new Error('each role needs its own token; two roles share one');
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
