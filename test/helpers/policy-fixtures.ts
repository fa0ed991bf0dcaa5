import { readFileSync } from 'node:fs';

/** One refused snippet and the violation it must produce (1-based line and UTF-16 column). */
export interface PolicyCase {
  code: string;
  rule: string;
  line: number;
  column: number;
}

export interface KitScript {
  name: string;
  code: string;
}

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** Escape attempts every policy mode that refuses must refuse (strict and allowlist). */
export const ESCAPES = fixture<PolicyCase[]>('policy-escapes.json');
/** Code only allowlist mode refuses; strict lets it through. */
export const ALLOWLIST_ONLY = fixture<PolicyCase[]>('policy-allowlist-only.json');
/** Ordinary Kit scripts no mode may refuse. */
export const KIT_SCRIPTS = fixture<KitScript[]>('policy-kit-scripts.json');
