/**
 * `strict` refuses on any violation, `permissive` reports but lets code through, `off` skips analysis,
 * `allowlist` is strict plus: only listed modules, no dunders, no builtins that run strings or open files.
 */
export type PolicyMode = 'strict' | 'permissive' | 'off' | 'allowlist';

export interface PolicyOptions {
  mode: PolicyMode;
  /** Hard cap in UTF-8 bytes, enforced in every mode and not liftable through `allow`. */
  maxCodeBytes: number;
  /** Extra modules to deny, dotted (`requests`, `os.path`). */
  denyImports: string[];
  /** Extra callables to deny, dotted (`builtins` names bare: `open`); a trailing `*` matches a family. */
  denyCalls: string[];
  /** Rule ids to lift: exact (`call:os.system`) or a prefix ending at `:` or `.` (`import`, `call:os`). */
  allow: string[];
  /** `allowlist` mode: modules allowed besides the Kit default list (DEFAULT_ALLOWED_MODULES). */
  allowModules?: string[];
}

export interface PolicyViolation {
  rule: string;
  message: string;
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units like JS strings and most editors. */
  column: number;
}

export interface PolicyVerdict {
  allowed: boolean;
  violations: PolicyViolation[];
}

export interface CodePolicy {
  readonly mode: PolicyMode;
  /** A hash of the options that decide verdicts: verdicts are cached under it. */
  readonly version: string;
  /** The verdict on `code`; the same code under the same policy gets the same (shared, frozen) verdict. */
  check(code: string): PolicyVerdict;
}

export type RuleKind =
  | 'import'
  | 'call'
  | 'attribute'
  | 'dynamic'
  | 'size'
  | 'reflection'
  | 'alias'
  | 'file'
  | 'allowlist';

export interface PolicyRule {
  id: string;
  kind: RuleKind;
  target: string;
  description: string;
}
