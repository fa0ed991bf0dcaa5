import { StatsOverview } from '../../../server/protocol/index.js';
import type { SwitchboardClient } from '../../sdk/index.js';
import { numberOption, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { renderTop, type TopFrame } from './top-view.js';

const RUNNING_SHOWN = 20;
// Alternate screen, cursor home + clear, hide/show cursor.
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H\x1b[2J';

async function frame(client: SwitchboardClient, since: { t: number }): Promise<TopFrame> {
  const [overview, page] = await Promise.all([
    client.http.request('GET', `/api/v1/stats/overview?since=${since.t}`, StatsOverview),
    client.list({ status: 'running', limit: RUNNING_SHOWN + 1 }),
  ]);
  const sample = overview.samples.at(-1) ?? null;
  // Ask only for newer samples next time, but keep the one shown when none came in between.
  if (sample) since.t = sample.t - 1;
  return {
    at: new Date().toISOString(),
    hub: client.url,
    sample,
    running: page.tasks.slice(0, RUNNING_SHOWN),
    moreRunning: page.tasks.length > RUNNING_SHOWN,
  };
}

export const topCommand = defineCommand({
  name: 'top',
  summary: 'Live view of the queue, the extensions and the running tasks',
  usage: 'top [--interval S] [--once]',
  description:
    "Shows queue depth, throughput, failure rate and durations (the hub's overview samples), each\n" +
    "extension's state and load, and the running tasks, refreshed in place on a terminal until Ctrl-C.\n" +
    'With --once (or when stdout is not a terminal) frames are printed one after another instead; with\n' +
    '--json each refresh is one NDJSON record.',
  options: {
    interval: { type: 'string', short: 'n' },
    once: { type: 'boolean' },
  },
  optionHelp: [
    ['-n, --interval S', 'Seconds between refreshes (default 2)'],
    ['--once', 'Print one frame and exit'],
  ],
  examples: ['switchboard top', 'switchboard top --once --json | jq .sample.queueDepth'],
  async run({ values, positionals, out, env, client }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const intervalMs =
      values.interval === undefined ? 2000 : numberOption('--interval', values.interval, { min: 0.2 }) * 1000;
    const sb = await client();
    const since = { t: 0 };
    const show = (f: TopFrame, live: boolean) => {
      if (out.json) out.record({ type: 'top', ...f });
      else if (live) env.stdout.write(`${HOME}${renderTop(f, (c, t) => out.paint(c, t))}\n`);
      else out.print(`${renderTop(f, (c, t) => out.paint(c, t))}\n`);
    };
    if (values.once) {
      show(await frame(sb, since), false);
      return 0;
    }
    const live = !out.json && Boolean(env.stdout.isTTY);
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const onSignal = () => stop();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (live) env.stdout.write(ENTER);
    try {
      for (;;) {
        // Ctrl-C while a request is out still exits at once.
        const next = await Promise.race([frame(sb, since), stopped.then(() => null)]);
        if (!next) return 0;
        show(next, live);
        let timer: NodeJS.Timeout | undefined;
        const tick = new Promise<'tick'>((r) => {
          timer = setTimeout(() => r('tick'), intervalMs);
        });
        const why = await Promise.race([tick, stopped.then(() => 'stop' as const)]);
        clearTimeout(timer);
        if (why === 'stop') return 0;
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (live) env.stdout.write(LEAVE);
    }
  },
});
