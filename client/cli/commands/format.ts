import type { Target } from '../../../server/protocol/index.js';

/** `ext-1`, `label:render` or `any`: the way `--target` is written. */
export function describeTarget(target: Target): string {
  if (target.extensionId) return target.extensionId;
  if (target.label) return `label:${target.label}`;
  return 'any';
}

/** Fixed-width columns, the last one left ragged. */
export function columns(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
