import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ChatTurn, ToolCall } from './types.js';

/**
 * Builds one turn from streamed chunks. Tool calls arrive as deltas keyed by `index`: the id and name in the
 * first, the JSON arguments split across many; usage arrives in a last chunk with no choices.
 */
export class StreamAssembler {
  private content = '';
  private readonly calls = new Map<number, ToolCall>();
  private finishReason: string | null = null;
  private usage: ChatTurn['usage'] = null;

  /** Takes one chunk; returns the text it carries (empty when none) for streaming on. */
  push(chunk: ChatCompletionChunk): string {
    if (chunk.usage) {
      this.usage = {
        promptTokens: chunk.usage.prompt_tokens,
        completionTokens: chunk.usage.completion_tokens,
        totalTokens: chunk.usage.total_tokens,
      };
    }
    const choice = chunk.choices[0];
    if (!choice) return '';
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    for (const delta of choice.delta.tool_calls ?? []) {
      const call = this.calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.name += delta.function.name;
      if (delta.function?.arguments) call.arguments += delta.function.arguments;
      this.calls.set(delta.index, call);
    }
    const text = choice.delta.content ?? '';
    this.content += text;
    return text;
  }

  turn(): ChatTurn {
    const toolCalls = [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
    return { content: this.content, toolCalls, finishReason: this.finishReason, usage: this.usage };
  }
}
