import type { TaskEvent } from '../protocol/tasks.js';

type Usage = { promptTokens: number; completionTokens: number; totalTokens: number };

const END_REASON = { failed: 'error', cancelled: 'cancelled', timed_out: 'timeout' } as const;

function usageOf(u: Usage | undefined) {
  return u
    ? { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.totalTokens }
    : null;
}

/**
 * A task event as the workflow execution plane's SSE names and shapes it: tool_thinking, tool_start,
 * tool_result, message_chunk, error, done. Node, progress, log and child output events have no plane
 * counterpart and are left out (a tool_result carries the child's output). Every stream ends with `done`:
 * from the `done` event on success, or from the terminal status otherwise, with the finish reason saying how.
 */
export function planeEvent(e: TaskEvent): { event: string; data: unknown } | null {
  const task_id = e.taskId;
  switch (e.type) {
    case 'token':
      return { event: 'message_chunk', data: { task_id, content: e.data.text } };
    case 'tool_thinking':
      return { event: 'tool_thinking', data: { task_id, content: e.data.text } };
    case 'tool_start':
      return {
        event: 'tool_start',
        data: { task_id, tool_call_id: e.data.callId, tool_name: e.data.name, arguments: e.data.args },
      };
    case 'tool_result':
      return {
        event: 'tool_result',
        data: {
          task_id,
          tool_call_id: e.data.callId,
          tool_name: e.data.name,
          result: e.data.result,
          is_error: e.data.isError,
        },
      };
    case 'error':
      return { event: 'error', data: { task_id, code: e.data.code, message: e.data.message } };
    case 'done':
      return {
        event: 'done',
        data: {
          task_id,
          status: 'succeeded',
          result: e.data.result,
          usage: usageOf(e.data.usage),
          finish_reason: e.data.finishReason ?? 'stop',
        },
      };
    case 'status': {
      const status = e.data.status;
      if (status !== 'failed' && status !== 'cancelled' && status !== 'timed_out') return null;
      return {
        event: 'done',
        data: { task_id, status, result: null, usage: null, finish_reason: END_REASON[status] },
      };
    }
    default:
      return null;
  }
}
