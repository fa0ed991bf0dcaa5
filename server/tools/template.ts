/** `{{vault.KEY}}` and `{{args.NAME}}` placeholders in an HTTP tool's configuration. */
const PLACEHOLDER = /\{\{\s*(vault|args)\.([A-Za-z0-9_.-]+)\s*\}\}/g;
const WHOLE = /^\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}$/;

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export interface TemplateScope {
  vault: Readonly<Record<string, string>>;
  args: Readonly<Record<string, unknown>>;
}

/** Whether a configuration places arguments itself (then they are not also sent as query or body). */
export function usesArgs(value: unknown): boolean {
  return /\{\{\s*args\./.test(JSON.stringify(value ?? null));
}

/**
 * Fills placeholders in every string of `value`. A string that is exactly one `{{args.X}}` becomes the
 * argument itself (a number stays a number in a JSON body). Errors never contain a vault value.
 */
export function fill(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') return fillString(value, scope);
  if (Array.isArray(value)) return value.map((v) => fill(v, scope));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, scope)]));
  }
  return value;
}

export function fillString(text: string, scope: TemplateScope): unknown {
  const whole = WHOLE.exec(text);
  if (whole) return lookupArg(scope, whole[1]!);
  return text.replace(PLACEHOLDER, (_m, kind: string, key: string) => {
    if (kind === 'vault') {
      const secret = scope.vault[key];
      if (secret === undefined) throw new TemplateError(`the vault has no key "${key}"`);
      return secret;
    }
    const v = lookupArg(scope, key);
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

function lookupArg(scope: TemplateScope, key: string): unknown {
  if (!Object.hasOwn(scope.args, key)) throw new TemplateError(`argument "${key}" is missing`);
  return scope.args[key];
}
