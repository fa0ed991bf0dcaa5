import { z } from 'zod';
import { NativeTool, type ToolOutput } from '../types.js';
import { evaluate } from './arithmetic.js';

const Args = z
  .object({
    expression: z.string().min(1).max(1000).describe('Arithmetic, e.g. (2 + 3) * 4 ^ 2 / 7'),
  })
  .strict();

/** Exact arithmetic for a model that is bad at it. */
export class CalculatorTool extends NativeTool<typeof Args> {
  readonly name = 'calculator';
  readonly description = 'Evaluates an arithmetic expression: + - * / % ^ and parentheses.';
  readonly schema = Args;

  protected async execute({ expression }: z.output<typeof Args>): Promise<ToolOutput> {
    try {
      return { result: { expression, value: evaluate(expression) }, isError: false };
    } catch (err) {
      return { result: { error: (err as Error).message }, isError: true };
    }
  }
}
