import { z } from 'zod';
import type { LlmTool } from '../llm/types.js';

export interface ToolContext {
  /** Aborted when the run is cancelled or times out: a tool stops its work at once. */
  signal: AbortSignal;
  callId: string;
}

/** What a tool hands back to the model; an error is information for it, not a failure of the run. */
export interface ToolOutput {
  result: unknown;
  isError: boolean;
}

export interface Tool {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the arguments, as the model is told. */
  readonly parameters: Record<string, unknown>;
  /** `args` is what the model wrote, parsed from JSON but otherwise untrusted. */
  run(args: unknown, ctx: ToolContext): Promise<ToolOutput>;
}

export function toLlmTool(tool: Tool): LlmTool {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  };
}

/**
 * A tool written in TypeScript with a zod schema for its arguments: the schema is both what the model is shown
 * (as JSON Schema) and what its arguments are checked against before `execute` sees them.
 */
export abstract class NativeTool<S extends z.ZodObject = z.ZodObject> implements Tool {
  abstract readonly name: string;
  abstract readonly description: string;
  abstract readonly schema: S;

  get parameters(): Record<string, unknown> {
    const { $schema: _drop, ...rest } = z.toJSONSchema(this.schema) as Record<string, unknown>;
    return rest;
  }

  async run(args: unknown, ctx: ToolContext): Promise<ToolOutput> {
    const parsed = this.schema.safeParse(args ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`);
      return { result: { error: `invalid arguments: ${problems.join('; ')}` }, isError: true };
    }
    return this.execute(parsed.data, ctx);
  }

  protected abstract execute(args: z.output<S>, ctx: ToolContext): Promise<ToolOutput>;
}
