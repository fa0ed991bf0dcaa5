import type { FlowMessage, FlowNodeReport, FlowReport, FlowStatusName } from '../../protocol/flowgram.js';
import type { Task, TaskEvent, TaskStatus } from '../../protocol/tasks.js';

const STATUS: Record<TaskStatus, FlowStatusName> = {
  queued: 'pending',
  dispatched: 'pending',
  running: 'processing',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'canceled',
  timed_out: 'failed',
};

/** A task's status by FlowGram's name for it. */
export function flowStatus(status: TaskStatus): FlowStatusName {
  return STATUS[status];
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : undefined);

type SchemaNode = { id?: unknown; data?: unknown; blocks?: unknown };

/** Snapshot `data` per node: the node's data without title and declarations, as FlowGram reports it. */
function nodeData(schema: unknown): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const walk = (nodes: unknown) => {
    if (!Array.isArray(nodes)) return;
    for (const n of nodes as SchemaNode[]) {
      if (typeof n?.id !== 'string') continue;
      const {
        title: _t,
        inputs: _i,
        outputs: _o,
        inputsValues: _v,
        ...data
      } = (n.data ?? {}) as Record<string, unknown>;
      out.set(n.id, data);
      walk(n.blocks);
    }
  };
  walk((schema as { nodes?: unknown } | null)?.nodes);
  return out;
}

function timing(start: number | undefined, end: number | undefined, terminated: boolean) {
  const timeCost = start === undefined ? 0 : (end ?? (terminated ? start : Date.now())) - start;
  return {
    ...(start !== undefined ? { startTime: start } : {}),
    ...(end !== undefined ? { endTime: end } : {}),
    timeCost,
  };
}

/**
 * The FlowGram report of a task, rebuilt from its stored events: each `node_start` opens a snapshot, the
 * node's next `node_end` closes it. Nothing lives only in memory, so a report survives a hub restart.
 */
export function buildReport(task: Task, events: TaskEvent[]): FlowReport {
  const data = nodeData(task.input['schema']);
  const reports: Record<string, FlowNodeReport> = {};
  const open = new Map<string, FlowReport['reports'][string]['snapshots'][number]>();
  const errors: FlowMessage[] = [];
  let outputs: Record<string, unknown> = {};
  for (const e of events) {
    if (e.type === 'node_start') {
      const id = e.data.node;
      const at = ms(e.ts);
      const snapshot = {
        id: `${task.id}:${e.seq}`,
        nodeID: id,
        inputs: e.data.inputs ?? {},
        data: data.get(id) ?? {},
      };
      const prev = reports[id];
      reports[id] = {
        id,
        status: 'processing',
        terminated: false,
        ...timing(at, undefined, false),
        snapshots: [...(prev?.snapshots ?? []), snapshot],
      };
      open.set(id, snapshot);
    } else if (e.type === 'node_end') {
      const id = e.data.node;
      const report = reports[id];
      const snapshot = open.get(id);
      open.delete(id);
      if (snapshot) {
        if (e.data.inputs) snapshot.inputs = e.data.inputs;
        if (e.data.outputs) Object.assign(snapshot, { outputs: e.data.outputs });
        if (e.data.branch) Object.assign(snapshot, { branch: e.data.branch });
        if (e.data.error !== undefined) Object.assign(snapshot, { error: e.data.error });
      }
      const status = e.data.status ?? 'succeeded';
      if (report)
        Object.assign(report, { status, terminated: true, ...timing(report.startTime, ms(e.ts), true) });
      if (e.data.error !== undefined)
        errors.push({
          id: `${task.id}:${e.seq}`,
          type: 'error',
          message: e.data.error,
          nodeID: id,
          timestamp: ms(e.ts) ?? 0,
        });
      if (e.data.nodeType === 'end' && status === 'succeeded') outputs = e.data.outputs ?? {};
    }
  }
  const details = task.error?.details as { validation?: unknown } | undefined;
  const at = ms(task.endedAt) ?? 0;
  if (Array.isArray(details?.validation)) {
    for (const [i, message] of details.validation.entries())
      errors.push({ id: `${task.id}:v${i}`, type: 'error', message: String(message), timestamp: at });
  } else if (task.error && errors.length === 0) {
    // Failures no node reported (timeout, restart, a dead end): still say why the workflow failed.
    errors.push({
      id: `${task.id}:error`,
      type: 'error',
      message: task.error.message,
      ...(task.error.field ? { nodeID: task.error.field } : {}),
      timestamp: at,
    });
  }
  const status = flowStatus(task.status);
  const terminated = ['succeeded', 'failed', 'canceled'].includes(status);
  const validationFailed = Array.isArray(details?.validation);
  return {
    id: task.id,
    inputs: (task.input['inputs'] as Record<string, unknown> | undefined) ?? {},
    outputs:
      terminated && task.result && typeof task.result === 'object'
        ? (task.result as Record<string, unknown>)
        : outputs,
    workflowStatus: {
      status,
      terminated,
      ...timing(
        validationFailed ? undefined : ms(task.startedAt),
        terminated && !validationFailed ? ms(task.endedAt) : undefined,
        terminated,
      ),
    },
    reports,
    messages: { log: [], info: [], debug: [], error: errors, warning: [] },
  };
}
