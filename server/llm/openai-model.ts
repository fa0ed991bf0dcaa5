import OpenAI from 'openai';
import { StreamAssembler } from './stream-assembler.js';
import { type ChatModel, type ChatRequest, type ChatTurn, ModelError } from './types.js';

export interface OpenAiModelOptions {
  model: string;
  baseURL?: string | undefined;
  apiKey?: string | undefined;
  /** The SDK's own retries: 408/409/429/5xx and connection errors, exponential backoff, Retry-After. */
  maxRetries: number;
  timeoutMs: number;
  /** Sampling settings of the run. */
  temperature?: number | undefined;
  maxTokens?: number | undefined;
}

/** A model behind any OpenAI-compatible `/chat/completions`, streamed with usage and tool calls. */
export class OpenAiModel implements ChatModel {
  readonly name: string;
  private readonly client: OpenAI;
  private readonly temperature: number | undefined;
  private readonly maxTokens: number | undefined;

  constructor(opts: OpenAiModelOptions) {
    this.temperature = opts.temperature;
    this.maxTokens = opts.maxTokens;
    this.name = opts.model;
    this.client = new OpenAI({
      // Local servers (vLLM, Ollama, tests) take no key, but the SDK insists on one.
      apiKey: opts.apiKey ?? 'not-needed',
      baseURL: opts.baseURL,
      maxRetries: opts.maxRetries,
      timeout: opts.timeoutMs,
      logLevel: 'off',
    });
  }

  async complete(req: ChatRequest): Promise<ChatTurn> {
    const assembler = new StreamAssembler();
    const { temperature, maxTokens } = this;
    try {
      const stream = await this.client.chat.completions.create(
        {
          model: this.name,
          messages: req.messages,
          stream: true,
          stream_options: { include_usage: true },
          ...(req.tools.length > 0 ? { tools: req.tools } : {}),
          ...(temperature !== undefined ? { temperature } : {}),
          ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
        },
        { signal: req.signal },
      );
      for await (const chunk of stream) {
        const text = assembler.push(chunk);
        if (text) req.onToken(text);
      }
    } catch (err) {
      // A cancel surfaces as the SDK's abort error: hand the caller its own reason, not a model failure.
      if (req.signal.aborted) throw req.signal.reason;
      throw toModelError(err, this.name);
    }
    return assembler.turn();
  }
}

/** A provider failure as one readable line: who failed, the status, and the provider's own message. */
export function toModelError(err: unknown, model: string): ModelError {
  if (err instanceof OpenAI.APIConnectionTimeoutError)
    return new ModelError(`model ${model}: the request timed out`, undefined);
  if (err instanceof OpenAI.APIConnectionError)
    return new ModelError(`model ${model}: cannot reach the model server (${err.message})`, undefined);
  if (err instanceof OpenAI.APIError) {
    const body = err.error as { message?: unknown } | undefined;
    const detail = typeof body?.message === 'string' ? body.message : err.message;
    const status = typeof err.status === 'number' ? err.status : undefined;
    return new ModelError(`model ${model} answered ${status ?? 'an error'}: ${detail}`, status);
  }
  return new ModelError(`model ${model}: ${err instanceof Error ? err.message : String(err)}`, undefined);
}
