import type {
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';

/** Conversation messages in the OpenAI chat format: the lingua franca of every model behind this interface. */
export type LlmMessage = ChatCompletionMessageParam;
/** A tool as the model is told about it (name, description, JSON Schema of its arguments). */
export type LlmTool = ChatCompletionFunctionTool;

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as the model wrote them: JSON text, not yet trusted. */
  arguments: string;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** One model turn, fully assembled from its stream. */
export interface ChatTurn {
  content: string;
  toolCalls: ToolCall[];
  finishReason: string | null;
  usage: Usage | null;
}

export interface ChatRequest {
  messages: LlmMessage[];
  tools: LlmTool[];
  /** Aborting it stops the HTTP stream at once. */
  signal: AbortSignal;
  /** Called with each piece of text as it streams in. */
  onToken: (text: string) => void;
}

/** Anything that can answer a conversation turn by streaming: an OpenAI-compatible endpoint or the demo model. */
export interface ChatModel {
  /** The model name, for events and logs. */
  readonly name: string;
  complete(request: ChatRequest): Promise<ChatTurn>;
}

/** A model call that failed for a reason worth telling the user (status, provider message). */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

export function addUsage(a: Usage | null, b: Usage | null): Usage | null {
  if (!a) return b;
  if (!b) return a;
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
}
