import { createHash } from 'node:crypto';
import type { HubConfig } from '../config.js';
import { HubError } from '../errors.js';
import type { Role } from '../protocol/common.js';
import { IpAllowlist } from './ip-allowlist.js';
import { RateLimiter } from './rate-limit.js';
import { type Action, can } from './roles.js';
import { loadTokens, TokenAuthenticator, type TokenSet } from './tokens.js';

export { bearer } from './tokens.js';
export type { Action, TokenSet };

export interface Principal {
  role: Role;
  /**
   * Key for rate limiting: one client, the token (by fingerprint) and the address, so one busy viewer does
   * not use up the budget of every other viewer.
   */
  key: string;
}

/** The one gate every transport passes through: address, token, role, rate. */
export class AuthService {
  readonly tokens: TokenSet;
  readonly generated: boolean;
  readonly tokensFile: string;
  private readonly authenticator: TokenAuthenticator;
  private readonly prints: Record<Role, string>;
  private readonly allowlist: IpAllowlist;
  private readonly limiter: RateLimiter;
  /** Failed authentications per address: guessing tokens gets slow, whichever token is tried. */
  private readonly failures: RateLimiter;

  constructor(config: HubConfig) {
    const { tokens, generated, file } = loadTokens(config.dataDir, {
      admin: config.adminToken,
      operator: config.operatorToken,
      viewer: config.viewerToken,
      extension: config.extensionToken,
    });
    this.tokens = tokens;
    this.generated = generated;
    this.tokensFile = file;
    this.authenticator = new TokenAuthenticator(tokens);
    this.prints = {
      admin: fingerprint(tokens.admin),
      operator: fingerprint(tokens.operator),
      viewer: fingerprint(tokens.viewer),
      extension: fingerprint(tokens.extension),
    };
    this.allowlist = new IpAllowlist(config.ipAllowlist);
    this.limiter = new RateLimiter(config.rateLimitPerMinute);
    this.failures = new RateLimiter(config.authFailuresPerMinute);
  }

  /** Checks address and token; throws `forbidden` or `unauthorized`. */
  authenticate(token: string | null | undefined, ip: string | undefined): Principal {
    if (!this.allowlist.allows(ip))
      throw new HubError('forbidden', `address ${ip ?? 'unknown'} is not allowed`);
    // One client is one address whether it came in over IPv4 or as an IPv4-mapped IPv6 address.
    const address = (ip ?? 'unknown').replace(/^::ffff:/, '');
    // Checked before the token, or a locked-out guesser would still learn when a guess is right.
    if (!this.failures.allows(address)) {
      throw new HubError('rate_limited', `too many failed authentications from ${address}; try again later`);
    }
    const role = this.authenticator.roleOf(token);
    if (!role || !token) {
      this.failures.take(address);
      throw new HubError('unauthorized', token ? 'the token is not valid' : 'a token is required');
    }
    // The token is the role's own (roleOf matched it), so its fingerprint was taken once, at start.
    return { role, key: `${role}:${this.prints[role]}@${address}` };
  }

  /** Throws `forbidden` naming the role and the action when the role may not act. */
  require(principal: Principal, action: Action): void {
    if (!can(principal.role, action)) {
      throw new HubError('forbidden', `role "${principal.role}" may not ${action.replace('_', ' ')}`);
    }
  }

  /** Throws `rate_limited` when the principal is over its budget. */
  charge(principal: Principal | string): void {
    const key = typeof principal === 'string' ? principal : principal.key;
    if (!this.limiter.take(key)) throw new HubError('rate_limited');
  }
}

/** A short, stable, one-way name for a token: rate-limit keys must not hold the token itself. */
function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 16);
}
