import type { Target } from '../../../server/protocol/index.js';

/** `ext-1`, `label:render` or `any`: the way `--target` is written. */
export function describeTarget(target: Target): string {
  if (target.extensionId) return target.extensionId;
  if (target.label) return `label:${target.label}`;
  return 'any';
}

/** Printed width: colour codes take no room. */
export function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape codes is the point
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** Fixed-width columns (cells may be coloured), the last one left ragged. */
export function columns(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ''))));
  return all
    .map((r) =>
      r
        .map((cell, i) =>
          i === r.length - 1 ? cell : cell + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(cell))),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
