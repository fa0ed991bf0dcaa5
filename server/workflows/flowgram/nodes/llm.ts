import { OpenAiModel } from '../../../llm/openai-model.js';
import type { LlmMessage } from '../../../llm/types.js';
import type { NodeExecutor } from '../engine.js';

export interface LlmNodeOptions {
  maxRetries: number;
  timeoutMs: number;
}

function checkInputs(inputs: Record<string, unknown>): void {
  const { modelName, temperature, apiKey, apiHost, prompt } = inputs;
  const missing: string[] = [];
  if (!modelName) missing.push('modelName');
  if (temperature === null || temperature === undefined) missing.push('temperature');
  if (!apiKey) missing.push('apiKey');
  if (!apiHost) missing.push('apiHost');
  if (!prompt) missing.push('prompt');
  if (missing.length > 0) throw new Error(`LLM node missing required inputs: "${missing.join('", "')}"`);
  if (typeof apiHost !== 'string') throw new Error(`Invalid API host format - ${String(apiHost)}`);
  let url: URL;
  try {
    url = new URL(apiHost);
  } catch {
    throw new Error(`Invalid API host format - ${apiHost}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`Invalid API host protocol - ${url.protocol}`);
}

/**
 * llm: one chat completion against the OpenAI-compatible server at `apiHost`, streamed; every chunk becomes a
 * token event of the task (tagged with the node), the whole text is the node's `result`.
 */
export function llmNode(opts: LlmNodeOptions): NodeExecutor {
  return async ({ inputs, signal, token }) => {
    checkInputs(inputs);
    const { modelName, temperature, apiKey, apiHost, systemPrompt, prompt } = inputs as Record<
      string,
      string
    >;
    const model = new OpenAiModel({
      model: String(modelName),
      baseURL: apiHost,
      apiKey,
      maxRetries: opts.maxRetries,
      timeoutMs: opts.timeoutMs,
      temperature: Number(temperature),
    });
    const messages: LlmMessage[] = [];
    if (systemPrompt) messages.push({ role: 'system', content: String(systemPrompt) });
    messages.push({ role: 'user', content: String(prompt) });
    let content: string;
    try {
      content = (await model.complete({ messages, tools: [], signal, onToken: token })).content;
    } catch (err) {
      // FlowGram's wording for a server that cannot be reached; other provider errors keep the hub's.
      if (!signal.aborted && err instanceof Error && err.message.includes('cannot reach the model server'))
        throw new Error(`Network error: unreachable api "${apiHost}"`);
      throw err;
    }
    return { outputs: { result: content } };
  };
}
