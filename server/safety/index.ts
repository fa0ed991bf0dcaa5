import { type AnalysisEnv, analyzeSource } from './analyze.js';
import { createPythonParser } from './parser.js';
import { compileRules } from './rule-set.js';
import { SIZE_RULE_ID } from './rules.js';
import type { CodePolicy, PolicyOptions, PolicyVerdict, PolicyViolation } from './types.js';
import { policyVersion, VerdictCache } from './verdict-cache.js';

export { DEFAULT_RULES, MODULE_ALIASES } from './rules.js';
export type {
  CodePolicy,
  PolicyMode,
  PolicyOptions,
  PolicyRule,
  PolicyVerdict,
  PolicyViolation,
  RuleKind,
} from './types.js';

/**
 * Builds the hub's check for pushed Python. The size cap holds in every mode and cannot be lifted through
 * `allow` (raise `maxCodeBytes` instead): it protects the hub, not the Kit process.
 */
export async function createPolicy(opts: PolicyOptions): Promise<CodePolicy> {
  const { mode, maxCodeBytes } = opts;
  // NaN would compare false against every size and switch the cap off without a word.
  if (!Number.isFinite(maxCodeBytes) || maxCodeBytes < 0) {
    throw new RangeError(`maxCodeBytes must be a non-negative number, got ${maxCodeBytes}`);
  }
  const rules = compileRules(opts);
  // 'off' never parses, so it never pays for the wasm.
  const env: AnalysisEnv | null = mode === 'off' ? null : { parser: await createPythonParser(), rules };
  const judge = (code: string): PolicyVerdict => {
    if (!env) return { allowed: true, violations: [] };
    const violations = analyzeSource(code, env)
      .filter((v) => !rules.isLifted(v.rule))
      .sort(byPosition);
    return { allowed: mode === 'permissive' || violations.length === 0, violations };
  };
  // Every submission is checked; code seen before gets the verdict this same policy reached for it then.
  const cache = new VerdictCache(policyVersion(opts));

  return {
    mode,
    version: cache.version,
    check(code: string): PolicyVerdict {
      const bytes = Buffer.byteLength(code, 'utf8');
      if (bytes > maxCodeBytes) {
        const message = `The code is ${bytes} bytes; the limit is ${maxCodeBytes}.`;
        return { allowed: false, violations: [{ rule: SIZE_RULE_ID, message, line: 1, column: 1 }] };
      }
      return env ? cache.get(code, judge) : judge(code);
    },
  };
}

function byPosition(a: PolicyViolation, b: PolicyViolation): number {
  return a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule);
}
