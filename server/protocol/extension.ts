import { z } from 'zod';
import { ackOf, Empty, ErrorBody, Id, Label } from './common.js';

export const Capabilities = z
  .object({
    hostApp: z.string().max(128).default('python'),
    hostVersion: z.string().max(64).default('unknown'),
    stagePath: z.string().max(2048).nullable().optional(),
    pythonVersion: z.string().max(64).optional(),
  })
  .strict();

/** First message from a host: who it is and how many jobs it runs at once. */
export const Register = z
  .object({
    /** Stable id chosen by the host (kept across reconnects); the hub makes one from the name if absent. */
    id: Id.optional(),
    name: z.string().min(1).max(128),
    labels: z.array(Label).max(32).default([]),
    capabilities: Capabilities.default({ hostApp: 'python', hostVersion: 'unknown' }),
    concurrency: z.number().int().min(1).max(64).default(1),
    /** Task ids the host is still running from before a reconnect. */
    running: z.array(Id).max(64).default([]),
    /** The host takes no new jobs (its user paused it); it keeps the ones it runs. */
    paused: z.boolean().optional(),
    /** The host secret the hub issued on this id's first registration; needed to register under it again. */
    secret: z.string().min(16).max(256).optional(),
  })
  .strict();
export type Register = z.input<typeof Register>;

export const Registered = z.object({
  extensionId: Id,
  heartbeatMs: z.number().int(),
  /** Issued on an id's first registration only: keep it and present it as `secret` on every later one. */
  hostSecret: z.string().optional(),
  /**
   * Protocol features this hub understands beyond the base protocol. `result-report`: a `job:result` may
   * carry the job's `output` and stand for its `job:started` too, so a short job costs one report.
   */
  features: z.array(z.string()).optional(),
});
export type Registered = z.infer<typeof Registered>;

export const Heartbeat = z
  .object({ running: z.array(Id).max(64).default([]), stagePath: z.string().max(2048).nullable().optional() })
  .strict();

/** Hub -> host: run this job. The host acks `{accepted}` at once and reports through job:* events. */
export const JobRun = z.object({
  taskId: Id,
  code: z.string(),
  timeoutMs: z.number().int(),
  attempt: z.number().int(),
  traceId: z.string(),
});
export type JobRun = z.infer<typeof JobRun>;

/** Hub -> host: stop this job (cancel or timeout). */
export const JobCancel = z.object({ taskId: Id, reason: z.enum(['cancelled', 'timed_out']) });
export type JobCancel = z.infer<typeof JobCancel>;

/**
 * The attempt a report is about (from `job:run`). Optional for simple hosts; a host that sends it lets the hub
 * drop a late report of an attempt it has already replaced, e.g. the "cancelled" of a job re-sent after a hub
 * restart.
 */
const Attempt = z.number().int().min(1).optional();

export const JobStarted = z.object({ taskId: Id, attempt: Attempt }).strict();
export const JobOutput = z
  .object({
    taskId: Id,
    attempt: Attempt,
    stream: z.enum(['stdout', 'stderr']),
    text: z.string().max(1_048_576),
  })
  .strict();
export type JobOutput = z.infer<typeof JobOutput>;

/** Host -> hub: how the job ended. `cancelled`/`timed_out` confirm a stop the hub asked for. */
export const JobResult = z
  .object({
    taskId: Id,
    attempt: Attempt,
    status: z.enum(['succeeded', 'failed', 'cancelled', 'timed_out']),
    result: z.unknown().optional(),
    error: ErrorBody.pick({ message: true })
      .extend({ type: z.string().max(256).optional(), traceback: z.string().optional() })
      .optional(),
    /**
     * With the `result-report` feature: output not yet sent as `job:output`, in order (`[]` for none). A
     * result carrying it also reports the start when no `job:started` came: the task goes through `running`.
     */
    output: z
      .array(z.object({ stream: z.enum(['stdout', 'stderr']), text: z.string().max(1_048_576) }).strict())
      .max(1024)
      .optional(),
  })
  .strict();
export type JobResult = z.input<typeof JobResult>;

/**
 * Host -> hub, the answer to `job:run`. With the `result-report` feature a host whose job ended before it
 * answered (a quick job run in-process) puts the whole report in the ack: `report` is its `job:result`
 * without the task id, output folded in, and no other message about the job follows.
 */
export const JobRunAck = z.object({
  accepted: z.boolean(),
  reason: z.string().optional(),
  report: JobResult.omit({ taskId: true }).optional(),
});
export type JobRunAck = z.infer<typeof JobRunAck>;

/** The `Registered.features` this hub offers. */
export const HUB_FEATURES = ['result-report'] as const;

/**
 * Host -> hub: a job the host was told to stop will not stop (e.g. blocked in a C call that ignores the
 * async exception). The hub keeps its slot busy and shows the host as stuck until its `job:result` comes.
 */
export const JobStuck = z
  .object({ taskId: Id, attempt: Attempt, message: z.string().max(1024).optional() })
  .strict();
export type JobStuck = z.input<typeof JobStuck>;

/** Host -> hub: the host's user paused (or resumed) taking jobs; a paused host gets none (capacity 0). */
export const HostPaused = z.object({ paused: z.boolean() }).strict();
export type HostPaused = z.input<typeof HostPaused>;

/** One line of the host application's own log (Kit's carb log), at or above the host's forwarding level. */
export const HostLogLine = z
  .object({
    ts: z.string().max(64),
    level: z.enum(['verbose', 'info', 'warn', 'error', 'fatal']),
    /** The logging module or plugin, e.g. `omni.usd` or a Python module name. */
    source: z.string().max(256).default(''),
    message: z.string().max(16_384),
    /** The job the line was logged for (its code logged it, or it was the only job running). */
    taskId: Id.optional(),
  })
  .strict();
export type HostLogLine = z.input<typeof HostLogLine>;

/** Host -> hub: forwarded log lines; `dropped` counts lines the host's bounded buffer lost meanwhile. */
export const HostLog = z
  .object({ lines: z.array(HostLogLine).min(1).max(500), dropped: z.number().int().min(0).optional() })
  .strict();
export type HostLog = z.input<typeof HostLog>;

/** A host log line as the hub keeps it: numbered per extension (`seq`), so a follower resumes by seq. */
export const HostLogEntry = z.object({
  extensionId: Id,
  seq: z.number().int().min(1),
  ts: z.string(),
  level: z.enum(['verbose', 'info', 'warn', 'error', 'fatal']),
  source: z.string(),
  message: z.string(),
  taskId: Id.optional(),
});
export type HostLogEntry = z.infer<typeof HostLogEntry>;

export const ExtensionInfo = z.object({
  id: Id,
  name: z.string(),
  labels: z.array(z.string()),
  capabilities: Capabilities,
  concurrency: z.number().int(),
  running: z.array(Id),
  online: z.boolean(),
  transport: z.enum(['socket.io', 'ws', 'polling']),
  connectedAt: z.string(),
  lastSeen: z.string(),
  /** Jobs the host (or the hub, when the host never confirmed a stop) reports as not stopping. */
  stuck: z.array(Id).optional(),
  /** The host's user paused taking jobs: it gets none until resumed. */
  paused: z.boolean().optional(),
  /** `stuck` when a job will not stop, `paused` when its user paused it, else `ready`. */
  state: z.enum(['ready', 'paused', 'stuck']).optional(),
});
export type ExtensionInfo = z.infer<typeof ExtensionInfo>;

/** Socket.IO namespace `/extension`: events the host sends, with their ack schemas. */
export const ExtensionClientEvents = {
  register: { payload: Register, ack: ackOf(Registered) },
  heartbeat: { payload: Heartbeat, ack: ackOf(Empty) },
  'job:started': { payload: JobStarted, ack: ackOf(Empty) },
  'job:output': { payload: JobOutput, ack: ackOf(Empty) },
  'job:result': { payload: JobResult, ack: ackOf(Empty) },
  'job:stuck': { payload: JobStuck, ack: ackOf(Empty) },
  'host:paused': { payload: HostPaused, ack: ackOf(Empty) },
  'host:log': { payload: HostLog, ack: ackOf(Empty) },
} as const;

/** Socket.IO namespace `/extension`: events the hub sends. */
export const ExtensionServerEvents = {
  'job:run': { payload: JobRun, ack: JobRunAck },
  'job:cancel': { payload: JobCancel },
  'hub:error': { payload: ErrorBody },
} as const;

/** `POST /api/v1/hosts/{id}/secret` (admin): a host secret issued ahead of time or rotated, shown once. */
export const HostSecretIssued = z.object({ id: Id, secret: z.string() });
export type HostSecretIssued = z.infer<typeof HostSecretIssued>;
export const HostSecretForgotten = z.object({ id: Id, forgotten: z.boolean() });
export type HostSecretForgotten = z.infer<typeof HostSecretForgotten>;
