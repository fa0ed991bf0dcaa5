import { z } from 'zod';
import type { HttpApi } from './http.js';

/**
 * The FlowGram runtime API the hub serves (`/api/task/*`, same paths and shapes as FlowGram's own), used by
 * the SDK's flow methods. A schema is sent as JSON text, as FlowGram's clients send it; an object is
 * stringified here so callers can pass either.
 */
export type FlowSchema = string | Record<string, unknown>;
export type FlowInputs = Record<string, unknown>;

export const FlowRunAnswer = z.object({ taskID: z.string() });
export type FlowRunAnswer = z.infer<typeof FlowRunAnswer>;

export const FlowValidation = z.object({ valid: z.boolean(), errors: z.array(z.string()).optional() });
export type FlowValidation = z.infer<typeof FlowValidation>;

export const FlowCancelAnswer = z.object({ success: z.boolean() });

/** FlowGram's report: kept loose past the fields a client reads, the hub's contract owns the rest. */
export const FlowReport = z
  .object({
    id: z.string(),
    inputs: z.unknown(),
    outputs: z.unknown(),
    workflowStatus: z.object({ status: z.string() }).passthrough(),
    reports: z.record(z.string(), z.unknown()),
    messages: z.unknown().optional(),
  })
  .passthrough();
export type FlowReport = z.infer<typeof FlowReport>;

const AnyJson = z.unknown();

export class FlowgramApi {
  readonly #http: HttpApi;

  constructor(http: HttpApi) {
    this.#http = http;
  }

  run(schema: FlowSchema, inputs: FlowInputs = {}): Promise<FlowRunAnswer> {
    return this.#http.request('POST', '/api/task/run', FlowRunAnswer, { schema: schemaText(schema), inputs });
  }

  validate(schema: FlowSchema, inputs: FlowInputs = {}): Promise<FlowValidation> {
    return this.#http.request('POST', '/api/task/validate', FlowValidation, {
      schema: schemaText(schema),
      inputs,
    });
  }

  report(taskID: string): Promise<FlowReport> {
    return this.#http.request('GET', `/api/task/report?taskID=${encodeURIComponent(taskID)}`, FlowReport);
  }

  result(taskID: string): Promise<unknown> {
    return this.#http.request('GET', `/api/task/result?taskID=${encodeURIComponent(taskID)}`, AnyJson);
  }

  async cancel(taskID: string): Promise<boolean> {
    return (await this.#http.request('PUT', '/api/task/cancel', FlowCancelAnswer, { taskID })).success;
  }
}

export function schemaText(schema: FlowSchema): string {
  return typeof schema === 'string' ? schema : JSON.stringify(schema);
}
