import { mkdir, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { PluginTaskResult, ResourceInput, SwitchboardClient } from '../../sdk/index.js';
import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { exitForStatus } from '../exit-codes.js';
import type { Output } from '../output.js';
import { columns } from './format.js';

const RESOURCE_TYPES = ['local_path', 'remote_url', 'base64'] as const;

/** `name=value`: the value as JSON when it parses (numbers, booleans, arrays), else as the text itself. */
export function parseParam(text: string): [string, unknown] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`-p ${text}: write name=value`);
  const name = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  try {
    return [name, JSON.parse(raw)];
  } catch {
    return [name, raw];
  }
}

/** `TYPE:MIME:DATA`, e.g. `local_path:image/png:/data/in.png` or `remote_url:image/jpeg:https://…`. */
export function parseResource(text: string): ResourceInput {
  const [type, mime, ...rest] = text.split(':');
  const data = rest.join(':');
  if (!type || !mime || !data || !(RESOURCE_TYPES as readonly string[]).includes(type))
    throw new UsageError(
      `--resource ${text}: write TYPE:MIME:DATA with TYPE one of ${RESOURCE_TYPES.join(', ')}`,
    );
  return { type: type as ResourceInput['type'], mime_type: mime, data };
}

export const pluginCommand = defineCommand({
  name: 'plugin',
  summary: 'Run a plugin tool (plugin run TOOL -p k=v --follow) or list plugins (plugin list)',
  usage:
    'plugin run TOOL [-p NAME=VALUE]... [--plugin NAME] [--resource TYPE:MIME:DATA]... [--timeout S] [--out DIR] [--follow]\n' +
    '       plugin list',
  description:
    'run: starts a plugin tool call as a task. Without --follow it prints the task id; with --follow it shows\n' +
    'progress as it happens, saves the output files into --out (default: the current folder) and prints\n' +
    'their paths, and exits with the outcome. Parameter values are read as JSON when they parse (width=256 is\n' +
    'a number), else as text. list: the plugins with their state and tool types.',
  options: {
    param: { type: 'string', short: 'p', multiple: true },
    plugin: { type: 'string' },
    resource: { type: 'string', multiple: true },
    timeout: { type: 'string' },
    out: { type: 'string', short: 'o' },
    follow: { type: 'boolean', short: 'f' },
  },
  optionHelp: [
    ['-p, --param NAME=VALUE', 'A tool parameter; repeatable'],
    ['--plugin NAME', 'The plugin to use (default: the first serving the tool)'],
    ['--resource TYPE:MIME:DATA', 'An input resource (local_path, remote_url, base64); repeatable'],
    ['--timeout S', 'Seconds before the call ends timed_out'],
    ['-o, --out DIR', 'Where --follow saves output files (default: the current folder)'],
    ['-f, --follow', 'Show progress, wait for the outcome and save the outputs'],
  ],
  examples: [
    'switchboard plugin run text2image -p prompt="hello" --follow',
    'switchboard plugin run text2image -p prompt="sunset" -p width=800 -p height=450 -p steps=40 --follow --out ./pics',
    'switchboard plugin list',
  ],
  async run({ values, positionals, out, env, client }) {
    const [verb, tool, ...extra] = positionals;
    if (verb === 'list') {
      if (tool !== undefined) throw new UsageError(`unexpected argument '${tool}'`);
      const plugins = await (await client()).plugins();
      if (out.json) {
        for (const p of plugins) out.record({ type: 'plugin', ...p });
        return 0;
      }
      const rows = plugins.map((p) => [
        p.name,
        p.version,
        p.state,
        p.transport,
        p.tool_types.join(',') || '-',
      ]);
      out.print(columns(['PLUGIN', 'VERSION', 'STATE', 'TRANSPORT', 'TOOLS'], rows));
      return 0;
    }
    if (verb !== 'run')
      throw new UsageError(verb ? `unknown plugin command '${verb}'` : 'give run TOOL or list');
    if (!tool) throw new UsageError('give the TOOL to run');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
    if (timeout !== undefined && !(timeout > 0))
      throw new UsageError('--timeout must be a positive number of seconds');
    const hub = await client();
    const task = await hub.runTool({
      tool,
      ...(values.plugin ? { plugin: values.plugin } : {}),
      parameters: Object.fromEntries((values.param ?? []).map(parseParam)),
      ...(values.resource?.length ? { resources: values.resource.map(parseResource) } : {}),
      ...(timeout ? { timeout } : {}),
    });
    if (!values.follow) {
      if (out.json) out.record({ type: 'task', ...task });
      else out.print(task.id);
      return 0;
    }
    out.note(`[task] ${task.id}`);
    return follow(hub, out, task.id, resolve(env.cwd, values.out ?? '.'));
  },
});

async function follow(hub: SwitchboardClient, out: Output, taskId: string, dir: string): Promise<number> {
  for await (const event of hub.follow(taskId)) out.event(event);
  const task = await hub.get(taskId);
  const result = task.result as (PluginTaskResult & { text?: string }) | null;
  if (task.status === 'succeeded' && result) {
    if (result.text && !out.json) out.note(result.text);
    for (const r of result.output_resources ?? []) {
      if (!r.url) continue;
      const bytes = await hub.download(r.url);
      await mkdir(dir, { recursive: true });
      const file = resolve(dir, `${taskId}-${basename(r.path)}`);
      await writeFile(file, bytes);
      if (out.json) out.record({ type: 'output', file, mime_type: r.mime_type, size: bytes.length });
      else out.print(file);
    }
  }
  out.outcome(out.json ? task : { ...task, result: null });
  return exitForStatus(task.status);
}
