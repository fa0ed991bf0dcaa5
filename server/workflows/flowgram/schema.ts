import { z } from 'zod';

/**
 * FlowGram's WorkflowSchema as zod. Deliberately loose (`passthrough`, unknown `data`): the editor adds fields
 * freely, and the structural checks FlowGram makes (with its exact messages) live in validate.ts.
 */
export const FlowValue = z
  .object({
    type: z.enum(['constant', 'ref', 'template', 'expression']),
    content: z.unknown().optional(),
  })
  .passthrough();
export type FlowValue = z.infer<typeof FlowValue>;

export interface JsonSchemaDecl {
  type?: string;
  properties?: Record<string, JsonSchemaDecl>;
  required?: string[];
  items?: JsonSchemaDecl;
  additionalProperties?: JsonSchemaDecl;
  enum?: unknown[];
  default?: unknown;
  $ref?: string;
}
export const JsonSchemaDecl: z.ZodType<JsonSchemaDecl> = z.lazy(() =>
  z
    .object({
      type: z.string().optional(),
      properties: z.record(z.string(), JsonSchemaDecl).optional(),
      required: z.array(z.string()).optional(),
      items: JsonSchemaDecl.optional(),
      additionalProperties: JsonSchemaDecl.optional(),
      enum: z.array(z.unknown()).optional(),
      default: z.unknown().optional(),
      $ref: z.string().optional(),
    })
    .passthrough(),
);

export interface NodeSchema {
  id: string;
  type: string;
  meta: { position?: { x: number; y: number } } & Record<string, unknown>;
  data: Record<string, unknown> & {
    title?: string;
    inputs?: JsonSchemaDecl;
    outputs?: JsonSchemaDecl;
    inputsValues?: Record<string, FlowValue>;
  };
  blocks?: NodeSchema[];
  edges?: EdgeSchema[];
}

export const EdgeSchema = z
  .object({
    sourceNodeID: z.string().min(1),
    targetNodeID: z.string().min(1),
    sourcePortID: z.string().optional(),
    targetPortID: z.string().optional(),
  })
  .passthrough();
export type EdgeSchema = z.infer<typeof EdgeSchema>;

export const NodeSchema: z.ZodType<NodeSchema> = z.lazy(() =>
  z
    .object({
      id: z.string().min(1),
      type: z.string().min(1),
      meta: z.record(z.string(), z.unknown()),
      data: z.record(z.string(), z.unknown()),
      blocks: z.array(NodeSchema).optional(),
      edges: z.array(EdgeSchema).optional(),
    })
    .passthrough(),
) as z.ZodType<NodeSchema>;

export const WorkflowSchema = z
  .object({
    nodes: z.array(NodeSchema),
    edges: z.array(EdgeSchema),
    globalVariable: JsonSchemaDecl.optional(),
  })
  .passthrough();
export type WorkflowSchema = z.infer<typeof WorkflowSchema>;

/** FlowGram's workflow and node status names. */
export const FlowStatus = z.enum(['pending', 'processing', 'succeeded', 'failed', 'canceled']);
export type FlowStatus = z.infer<typeof FlowStatus>;

export type VariableType =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'object'
  | 'array'
  | 'map'
  | 'date-time'
  | 'null';

/** A value with the type the runtime knows it by (declared, or inferred from the value). */
export interface TypedValue {
  value: unknown;
  type: VariableType | string;
  itemsType?: VariableType | string | undefined;
}
