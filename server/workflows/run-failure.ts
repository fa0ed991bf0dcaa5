import { GraphRecursionError } from '@langchain/langgraph';
import { HubError } from '../errors.js';
import { ModelError } from '../llm/types.js';
import type { TaskError } from '../protocol/tasks.js';

/** Why a run failed, as the task's error: the model's own words for model errors, never a stack. */
export function runFailure(err: unknown, workflow: string): TaskError {
  if (err instanceof ModelError) {
    return {
      code: 'execution_failed',
      message: err.message,
      details: { source: 'model', ...(err.status !== undefined ? { status: err.status } : {}) },
    };
  }
  if (err instanceof GraphRecursionError) {
    return { code: 'execution_failed', message: `workflow ${workflow} took too many steps` };
  }
  if (err instanceof HubError) return err.toBody();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `workflow ${workflow} failed unexpectedly: ${message}` };
}
