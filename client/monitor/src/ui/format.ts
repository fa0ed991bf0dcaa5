import type { TaskStatus, TaskSummary } from '../protocol.js';

export const STATUS_LABEL: Record<TaskStatus, string> = {
  queued: 'Queued',
  dispatched: 'Dispatched',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  timed_out: 'Timed out',
};

/** 850 ms, 12.4 s, 3 m 05 s, 2 h 10 m. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.floor(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3_600)} h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')} m`;
}

/** Run time: start to end, or to now while running; queue time is not counted. */
export function taskDuration(
  t: Pick<TaskSummary, 'startedAt' | 'endedAt' | 'createdAt'>,
  now = Date.now(),
): string {
  const start = t.startedAt ?? null;
  if (!start) return t.endedAt ? formatDuration(Date.parse(t.endedAt) - Date.parse(t.createdAt)) : '—';
  return formatDuration((t.endedAt ? Date.parse(t.endedAt) : now) - Date.parse(start));
}

/** "4 s ago", "3 m ago", "2 h ago", else a date. */
export function ago(iso: string | number, now = Date.now()): string {
  const t = typeof iso === 'number' ? iso : Date.parse(iso);
  const s = Math.max(0, Math.round((now - t) / 1_000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3_600) return `${Math.floor(s / 60)} m ago`;
  if (s < 86_400) return `${Math.floor(s / 3_600)} h ago`;
  return new Date(t).toLocaleDateString();
}

export function clockTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** Where a task was sent: an extension, a label, any extension (code), or nowhere in particular. */
export function targetText(t: Pick<TaskSummary, 'target' | 'kind'>): string {
  if (t.target.extensionId) return t.target.extensionId;
  if (t.target.label) return `label:${t.target.label}`;
  return t.kind === 'code' ? 'any extension' : '—';
}

/** JSON for people: short values inline, the rest pretty-printed. */
export function pretty(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}
