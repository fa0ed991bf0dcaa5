import type { JobResult } from '../../server/protocol/index.js';
import { type CodePolicy, createPolicy, type PolicyMode } from '../../server/safety/index.js';

/**
 * The reference host checks pushed code again before it runs, with the hub's own analyser (one
 * implementation of the rules per language: TypeScript here and on the hub, ast in the Kit bridge), so a
 * hub running in permissive or off mode, or a forged job, does not get denied code past the host.
 */

export interface HostPolicyOptions {
  /** Default `strict`; `allowlist` for LLM-written code; `off` skips the check (the size cap stays). */
  mode?: PolicyMode;
  /** Rule ids or prefixes to lift, as `SWITCHBOARD_POLICY_ALLOW` on the hub. */
  allow?: string[];
  /** Allowlist mode: modules allowed besides the Kit default list. */
  allowModules?: string[];
  maxCodeBytes?: number;
}

type JobError = NonNullable<JobResult['error']>;

export interface HostVerdict {
  /** Set when the code must not run: the job's failure, as the Kit bridge reports one. */
  refusal?: JobError;
  /** Permissive mode: what strict would have refused, written to the job's stderr before it runs. */
  warnings: string[];
}

export class HostPolicy {
  private constructor(private readonly policy: CodePolicy) {}

  static async create(options: HostPolicyOptions = {}): Promise<HostPolicy> {
    const policy = await createPolicy({
      mode: options.mode ?? 'strict',
      maxCodeBytes: options.maxCodeBytes ?? 262_144,
      denyImports: [],
      denyCalls: [],
      allow: options.allow ?? [],
      allowModules: options.allowModules ?? [],
    });
    return new HostPolicy(policy);
  }

  get mode(): PolicyMode {
    return this.policy.mode;
  }

  check(code: string): HostVerdict {
    const { allowed, violations } = this.policy.check(code);
    const lines = violations.map((v) => `line ${v.line}, column ${v.column}: ${v.message} [${v.rule}]`);
    if (allowed) return { warnings: lines.map((l) => `[switchboard policy warning] ${l}\n`) };
    const first = violations[0];
    const where = first ? ` [${first.rule}] at line ${first.line}, column ${first.column}` : '';
    const message = `refused by the host's safety policy: ${first?.message ?? 'the code was refused'}${where}`;
    const traceback = `PolicyError:\n${lines.map((l) => `  ${l}\n`).join('')}`;
    return { refusal: { message, type: 'PolicyError', traceback }, warnings: [] };
  }
}
