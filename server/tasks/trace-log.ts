import type { Logger } from '../log.js';
import type { TaskEvent } from '../protocol/tasks.js';
import type { TaskService } from './service.js';

/** The parts of an event safe to log: names and outcomes, never arguments, results, output or text. */
function traceFields(e: TaskEvent): Record<string, unknown> {
  switch (e.type) {
    case 'status':
      return { status: e.data.status, reason: e.data.reason, extensionId: e.data.extensionId };
    case 'tool_start':
      return { tool: e.data.name, callId: e.data.callId };
    case 'tool_result':
      return { tool: e.data.name, callId: e.data.callId, isError: e.data.isError };
    case 'node_start':
    case 'node_end':
      return { node: e.data.node };
    case 'log':
      return { level: e.data.level, waiting: e.data.waiting };
    case 'error':
      return { code: e.data.code };
    case 'done':
      return { finishReason: e.data.finishReason, usage: e.data.usage };
    default:
      return {};
  }
}

/**
 * LOG_TRACE_ENABLED (the execution plane's "detailed trace" switch): one info line per task event, with the
 * task's trace id, so a run can be followed in the logs. Streamed text (tokens, output) is left out: it is
 * the bulk of events and may carry anything the code or model printed.
 */
export function attachTraceLog(tasks: TaskService, logger: Logger): () => void {
  return tasks.onEvent((e) => {
    if (e.type === 'token' || e.type === 'output') return;
    const traceId = tasks.live(e.taskId)?.traceId;
    logger.info(
      { taskId: e.taskId, traceId, seq: e.seq, type: e.type, ...traceFields(e) },
      `trace ${e.type}`,
    );
  });
}
