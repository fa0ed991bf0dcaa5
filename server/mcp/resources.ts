import type { ReadResourceResult, Resource, ResourceTemplate } from '@modelcontextprotocol/sdk/types.js';
import type { HubContext } from '../context.js';
import { RPC_RESOURCE_NOT_FOUND, rpcError } from './errors.js';

export const EXTENSIONS_URI = 'switchboard://extensions';
export const TASK_URI_TEMPLATE = 'switchboard://tasks/{id}';
const TASK_URI = /^switchboard:\/\/tasks\/([^/?#]{1,128})$/;
/** Events a task resource carries at most (the newest are cut; get_task pages through all of them). */
export const RESOURCE_EVENTS = 2000;
/** Recent tasks resources/list names, so a client can browse without knowing ids. */
const LISTED_TASKS = 20;

export const RESOURCE_TEMPLATES: ResourceTemplate[] = [
  {
    uriTemplate: TASK_URI_TEMPLATE,
    name: 'task',
    title: 'A Switchboard task with its events',
    description: `The task (status, input, result, error) and its events in seq order (the first ${RESOURCE_EVENTS}).`,
    mimeType: 'application/json',
  },
];

/** The extensions resource and the most recent tasks. */
export async function listResources(hub: HubContext): Promise<Resource[]> {
  const recent = (await hub.tasks.list({ limit: LISTED_TASKS })).tasks.map((t) => ({
    uri: `switchboard://tasks/${t.id}`,
    name: `task ${t.id}`,
    title: `${t.kind} task ${t.id} (${t.status})`,
    mimeType: 'application/json',
  }));
  return [
    {
      uri: EXTENSIONS_URI,
      name: 'extensions',
      title: 'Connected extensions',
      description: 'Extensions online now, as list_extensions returns them.',
      mimeType: 'application/json',
    },
    ...recent,
  ];
}

export async function readResource(hub: HubContext, uri: string): Promise<ReadResourceResult> {
  const json = (value: unknown): ReadResourceResult => ({
    contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(value) }],
  });
  if (uri === EXTENSIONS_URI) return json({ extensions: hub.registry.list() });
  const id = decoded(TASK_URI.exec(uri)?.[1]);
  const task = id ? await hub.tasks.get(id) : null;
  if (!task) {
    throw rpcError(RPC_RESOURCE_NOT_FOUND, 'not_found', `no resource ${uri}`, 'uri');
  }
  const events = await hub.tasks.replay(task.id, 0);
  return json({ task, events: events.slice(0, RESOURCE_EVENTS), more: events.length > RESOURCE_EVENTS });
}

function decoded(part: string | undefined): string | undefined {
  if (part === undefined) return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined; // a malformed escape names no task
  }
}
