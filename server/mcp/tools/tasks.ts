import { z } from 'zod';
import type { HubContext } from '../../context.js';
import { Id } from '../../protocol/common.js';
import { TaskKind, TaskStatus } from '../../protocol/tasks.js';
import { defineTool, jsonResult, type McpTool } from '../types.js';

/** Events get_task returns at most per call; page on with afterSeq. */
export const EVENTS_PAGE = 500;

const TaskIdArgs = z.object({ taskId: Id.describe('A task id (from list_tasks or a tool result)') }).strict();

export function listExtensionsTool(hub: HubContext): McpTool {
  return defineTool({
    name: 'list_extensions',
    title: 'List connected extensions',
    description:
      'Extensions (Kit apps, Python hosts) online now: id, name, labels, host app and version, stage, running jobs.',
    action: 'read',
    input: z.object({}).strict(),
    annotations: { readOnlyHint: true },
    async run() {
      return jsonResult({ extensions: hub.registry.list() });
    },
  });
}

export function listTasksTool(hub: HubContext): McpTool {
  return defineTool({
    name: 'list_tasks',
    title: 'List tasks',
    description: 'Tasks newest first (code, workflow, plugin), optionally filtered; page on with nextCursor.',
    action: 'read',
    input: z
      .object({
        status: TaskStatus.optional(),
        kind: TaskKind.optional(),
        extensionId: Id.optional(),
        parentId: Id.optional(),
        limit: z.number().int().min(1).max(200).default(20),
        cursor: z.string().max(256).optional().describe('nextCursor of the previous page'),
      })
      .strict(),
    annotations: { readOnlyHint: true },
    async run(args) {
      return jsonResult(await hub.tasks.list(args));
    },
  });
}

export function getTaskTool(hub: HubContext): McpTool {
  return defineTool({
    name: 'get_task',
    title: 'Get a task',
    description: `One task (status, input, result, error) and, with events: true, its events after afterSeq (at most ${EVENTS_PAGE}).`,
    action: 'read',
    input: TaskIdArgs.extend({
      events: z.boolean().default(false).describe('Include the task events'),
      afterSeq: z.number().int().min(0).default(0).describe('Only events with a larger seq'),
    }).strict(),
    annotations: { readOnlyHint: true },
    async run(args) {
      const task = await hub.tasks.require(args.taskId);
      if (!args.events) return jsonResult({ task });
      const events = await hub.tasks.replay(task.id, args.afterSeq);
      return jsonResult({ task, events: events.slice(0, EVENTS_PAGE), more: events.length > EVENTS_PAGE });
    },
  });
}

export function cancelTaskTool(hub: HubContext): McpTool {
  return defineTool({
    name: 'cancel_task',
    title: 'Cancel a task',
    description: 'Cancels a task that has not ended (its running code is stopped on the extension).',
    action: 'cancel',
    input: TaskIdArgs,
    annotations: { destructiveHint: true, idempotentHint: false },
    async run(args) {
      return jsonResult({ task: await hub.dispatcher.cancel(args.taskId) });
    },
  });
}
