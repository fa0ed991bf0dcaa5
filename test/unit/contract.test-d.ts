import { describe, expectTypeOf, it } from 'vitest';
import type {
  Ack,
  ExtensionClientToServer,
  ExtensionServerToClient,
  JobRun,
  JobRunAck,
  MonitorClientToServer,
  MonitorServerToClient,
  Registered,
  Task,
  TaskEvent,
  TaskPage,
  TaskStatus,
} from '../../server/protocol/index.js';

// A renamed event or a changed payload breaks these at compile time, not for a user at run time.
describe('contract types', () => {
  it('monitor events carry the contract payloads and acks', () => {
    expectTypeOf<keyof MonitorClientToServer>().toEqualTypeOf<
      | 'task:submit'
      | 'task:get'
      | 'task:list'
      | 'task:cancel'
      | 'task:subscribe'
      | 'task:unsubscribe'
      | 'task:graph'
      | 'feed:subscribe'
      | 'feed:unsubscribe'
      | 'extensions:list'
      | 'workflows:list'
      | 'workflow:start'
      | 'extension:logs:subscribe'
      | 'extension:logs:unsubscribe'
    >();
    expectTypeOf<Parameters<MonitorClientToServer['task:submit']>[0]>()
      .toHaveProperty('code')
      .toEqualTypeOf<string>();
    expectTypeOf<Parameters<Parameters<MonitorClientToServer['task:submit']>[1]>[0]>().toEqualTypeOf<
      Ack<Task>
    >();
    expectTypeOf<Parameters<Parameters<MonitorClientToServer['task:list']>[1]>[0]>().toEqualTypeOf<
      Ack<TaskPage>
    >();
    expectTypeOf<Parameters<MonitorClientToServer['task:subscribe']>[0]>().toEqualTypeOf<{
      taskId: string;
      afterSeq?: number | undefined;
    }>();
    expectTypeOf<Parameters<MonitorServerToClient['task:event']>[0]>().toEqualTypeOf<TaskEvent>();
    expectTypeOf<keyof MonitorServerToClient>().toEqualTypeOf<
      'task:event' | 'task:summary' | 'task:waiting' | 'extension:presence' | 'extension:log' | 'hub:error'
    >();
  });

  it('extension events carry the contract payloads and acks', () => {
    expectTypeOf<keyof ExtensionClientToServer>().toEqualTypeOf<
      | 'register'
      | 'heartbeat'
      | 'job:started'
      | 'job:output'
      | 'job:result'
      | 'job:stuck'
      | 'host:paused'
      | 'host:log'
    >();
    expectTypeOf<Parameters<Parameters<ExtensionClientToServer['register']>[1]>[0]>().toEqualTypeOf<
      Ack<Registered>
    >();
    expectTypeOf<Parameters<ExtensionServerToClient['job:run']>[0]>().toEqualTypeOf<JobRun>();
    expectTypeOf<
      Parameters<Parameters<ExtensionServerToClient['job:run']>[1]>[0]
    >().toMatchTypeOf<JobRunAck>();
    expectTypeOf<Parameters<ExtensionClientToServer['job:result']>[0]['status']>().toEqualTypeOf<
      'succeeded' | 'failed' | 'cancelled' | 'timed_out'
    >();
  });

  it('task events are a closed union discriminated on type', () => {
    expectTypeOf<TaskEvent['type']>().toEqualTypeOf<
      | 'status'
      | 'output'
      | 'token'
      | 'tool_thinking'
      | 'tool_start'
      | 'tool_result'
      | 'node_start'
      | 'node_end'
      | 'progress'
      | 'log'
      | 'error'
      | 'done'
    >();
    expectTypeOf<Extract<TaskEvent, { type: 'status' }>['data']['status']>().toEqualTypeOf<TaskStatus>();
    expectTypeOf<Extract<TaskEvent, { type: 'output' }>['data']['stream']>().toEqualTypeOf<
      'stdout' | 'stderr'
    >();
  });
});
