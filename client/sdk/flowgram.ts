import { z } from 'zod';
import {
  FlowReport,
  FlowTaskCancelOutput,
  FlowTaskRunOutput,
  FlowValidateOutput,
} from '../../server/protocol/flowgram.js';
import type { HttpApi } from './http.js';

/**
 * The FlowGram runtime API the hub serves (`/api/task/*`, same paths and shapes as FlowGram's own), used by
 * the SDK's flow methods. A schema is sent as JSON text, as FlowGram's clients send it; an object is
 * stringified here so callers can pass either.
 */
export type FlowSchema = string | Record<string, unknown>;
export type FlowInputs = Record<string, unknown>;

export type FlowRunAnswer = z.infer<typeof FlowTaskRunOutput>;
export type FlowValidation = z.infer<typeof FlowValidateOutput>;
export type { FlowReport };

const AnyJson = z.unknown();

export class FlowgramApi {
  readonly #http: HttpApi;

  constructor(http: HttpApi) {
    this.#http = http;
  }

  run(schema: FlowSchema, inputs: FlowInputs = {}): Promise<FlowRunAnswer> {
    return this.#http.request('POST', '/api/task/run', FlowTaskRunOutput, {
      schema: schemaText(schema),
      inputs,
    });
  }

  validate(schema: FlowSchema, inputs: FlowInputs = {}): Promise<FlowValidation> {
    return this.#http.request('POST', '/api/task/validate', FlowValidateOutput, {
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
    return (await this.#http.request('PUT', '/api/task/cancel', FlowTaskCancelOutput, { taskID })).success;
  }
}

export function schemaText(schema: FlowSchema): string {
  return typeof schema === 'string' ? schema : JSON.stringify(schema);
}
