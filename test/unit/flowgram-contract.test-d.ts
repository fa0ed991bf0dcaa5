import { describe, expectTypeOf, it } from 'vitest';
import type { FlowReport, FlowStatusName } from '../../server/protocol/flowgram.js';
import type { EventDataOf } from '../../server/protocol/tasks.js';

// The FlowGram wire shapes clients (editor, CLI, monitor) rely on: a rename breaks the build, not a user.
describe('FlowGram contract types', () => {
  it('node events carry inputs, outputs, branch, error, status and the loop iteration', () => {
    expectTypeOf<EventDataOf<'node_start'>>().toMatchTypeOf<{
      node: string;
      nodeType?: string;
      inputs?: Record<string, unknown>;
      loop?: { nodeId: string; index: number };
    }>();
    expectTypeOf<EventDataOf<'node_end'>['status']>().toEqualTypeOf<
      'succeeded' | 'failed' | 'canceled' | undefined
    >();
    expectTypeOf<EventDataOf<'node_end'>>().toMatchTypeOf<{
      node: string;
      outputs?: Record<string, unknown>;
      branch?: string;
      error?: string;
    }>();
  });

  it('reports use FlowGram status names and field names', () => {
    expectTypeOf<FlowStatusName>().toEqualTypeOf<
      'pending' | 'processing' | 'succeeded' | 'failed' | 'canceled'
    >();
    expectTypeOf<keyof FlowReport>().toEqualTypeOf<
      'id' | 'inputs' | 'outputs' | 'workflowStatus' | 'reports' | 'messages'
    >();
    expectTypeOf<FlowReport['reports'][string]['snapshots'][number]>().toMatchTypeOf<{
      nodeID: string;
      inputs: Record<string, unknown>;
    }>();
  });
});
