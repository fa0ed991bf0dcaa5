/** `12s ago`, `5m ago`, `3h ago`, `2d ago`; the date itself past a week. */
export function ago(iso: string, now = Date.now()): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  if (s < 7 * 86_400) return `${Math.floor(s / 86_400)}d ago`;
  return iso.slice(0, 10);
}

/** How long a task ran (or has been running: `12.0s…`); `-` before it starts. */
export function took(
  t: { startedAt: string | null; createdAt: string; endedAt: string | null },
  now = Date.now(),
): string {
  const from = Date.parse(t.startedAt ?? t.createdAt);
  const to = t.endedAt ? Date.parse(t.endedAt) : now;
  if (!t.endedAt && !t.startedAt) return '-';
  const ms = Math.max(0, to - from);
  const text =
    ms < 60_000
      ? `${(ms / 1000).toFixed(1)}s`
      : `${Math.floor(ms / 60_000)}m ${String(Math.round(ms / 1000) % 60).padStart(2, '0')}s`;
  return t.endedAt ? text : `${text}…`;
}
