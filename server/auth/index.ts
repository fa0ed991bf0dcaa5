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
  /** Key for rate limiting: the role (one token per role). */
  key: string;
}

/** The one gate every transport passes through: address, token, role, rate. */
export class AuthService {
  readonly tokens: TokenSet;
  readonly generated: boolean;
  readonly tokensFile: string;
  private readonly authenticator: TokenAuthenticator;
  private readonly allowlist: IpAllowlist;
  private readonly limiter: RateLimiter;

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
    this.allowlist = new IpAllowlist(config.ipAllowlist);
    this.limiter = new RateLimiter(config.rateLimitPerMinute);
  }

  /** Checks address and token; throws `forbidden` or `unauthorized`. */
  authenticate(token: string | null | undefined, ip: string | undefined): Principal {
    if (!this.allowlist.allows(ip))
      throw new HubError('forbidden', `address ${ip ?? 'unknown'} is not allowed`);
    const role = this.authenticator.roleOf(token);
    if (!role) throw new HubError('unauthorized', token ? 'the token is not valid' : 'a token is required');
    return { role, key: role };
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
