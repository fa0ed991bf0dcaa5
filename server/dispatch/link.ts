import type { JobCancel, JobRun, JobRunAck } from '../protocol/extension.js';

/** One connected host, whatever carries it (Socket.IO, raw ws, HTTP polling). */
export interface ExtensionLink {
  readonly transport: 'socket.io' | 'ws' | 'polling';
  /** Offers a job; resolves with the host's ack, rejects when the host does not answer in time. */
  runJob(job: JobRun): Promise<JobRunAck>;
  cancelJob(msg: JobCancel): void;
  /** Drops the connection (e.g. another connection registered the same extension id). */
  close(reason: string): void;
}
