import type { StatsSample, TaskSummary } from '../../../server/protocol/index.js';
import { STATUS_COLOUR } from '../output.js';
import { columns } from './format.js';
import { took } from './when.js';

/** What one refresh of `top` shows (also its --json record). */
export interface TopFrame {
  at: string;
  hub: string;
  /** The latest overview sample; null until the hub has taken one. */
  sample: StatsSample | null;
  running: TaskSummary[];
  /** More running tasks than listed. */
  moreRunning: boolean;
}

type Paint = (colour: 'green' | 'red' | 'dim' | 'yellow' | 'cyan' | 'bold', text: string) => string;

const STATE_COLOUR = { idle: 'green', busy: 'cyan', stuck: 'red', paused: 'yellow', offline: 'dim' } as const;

function rate(n: number): string {
  return `${n.toFixed(n >= 10 ? 0 : 1)}/s`;
}

function ms(n: number | null): string {
  if (n === null) return '-';
  return n < 1000 ? `${Math.round(n)}ms` : `${(n / 1000).toFixed(1)}s`;
}

/** The screen: a summary line, the extensions with their load, the running tasks. */
export function renderTop(frame: TopFrame, paint: Paint, now = Date.now()): string {
  const s = frame.sample;
  const lines = [
    paint('bold', `switchboard top  ${frame.hub}  ${frame.at.slice(11, 19)}`) +
      paint('dim', '  (Ctrl-C to quit)'),
    '',
  ];
  if (!s) lines.push(paint('dim', 'waiting for the first sample…'));
  else {
    const failure = s.failureRate === null ? '-' : `${Math.round(s.failureRate * 100)}%`;
    lines.push(
      [
        `QUEUED ${paint('bold', String(s.queued))}`,
        `RUNNING ${s.running}`,
        `STARTED ${rate(s.startedPerSec)}`,
        `FINISHED ${rate(s.finishedPerSec)}`,
        `FAILED ${s.failureRate ? paint('red', failure) : failure}`,
        `P50 ${ms(s.p50Ms)}`,
        `P99 ${ms(s.p99Ms)}`,
      ].join('   '),
      '',
    );
    if (s.extensions.length === 0) lines.push(paint('dim', 'no extensions'));
    else
      lines.push(
        columns(
          ['EXTENSION', 'NAME', 'STATE', 'LOAD'],
          s.extensions.map((e) => [
            e.id,
            e.name,
            paint(STATE_COLOUR[e.state], e.state),
            e.state === 'offline' ? '-' : `${e.running}/${e.slots}`,
          ]),
        ),
      );
  }
  lines.push('');
  if (frame.running.length === 0) lines.push(paint('dim', 'no tasks running'));
  else {
    lines.push(
      columns(
        ['RUNNING', 'STATUS', 'KIND', 'NAME', 'EXTENSION', 'TOOK'],
        frame.running.map((t) => [
          t.id,
          paint(STATUS_COLOUR[t.status], t.status),
          t.kind,
          t.name ?? '-',
          t.extensionId ?? '-',
          took(t, now),
        ]),
      ),
    );
    if (frame.moreRunning) lines.push(paint('dim', '… and more'));
  }
  return lines.join('\n');
}
