import type { LlmMessage } from '../llm/types.js';
import type { ChatMessage } from '../protocol/workflows.js';

const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/**
 * The payload's messages in the model's format, with `{{name}}` filled from `input.variables` (a name the
 * variables do not have is left as written, so literal braces in a prompt survive).
 */
export function toLlmMessages(
  messages: readonly ChatMessage[],
  variables: Record<string, unknown>,
): LlmMessage[] {
  const fill = (text: string) =>
    text.replace(VARIABLE, (whole, name: string) => {
      if (!Object.hasOwn(variables, name)) return whole;
      const v = variables[name];
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  return messages.map((m): LlmMessage => {
    const content = fill(m.content);
    switch (m.role) {
      case 'tool':
        return { role: 'tool', content, tool_call_id: m.tool_call_id ?? '' };
      case 'assistant':
        return { role: 'assistant', content, ...(m.name ? { name: m.name } : {}) };
      default:
        return { role: m.role, content, ...(m.name ? { name: m.name } : {}) };
    }
  });
}
