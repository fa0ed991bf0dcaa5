import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  ExtensionClientToServer,
  ExtensionServerToClient,
  JobCancel,
  JobResult,
  JobRun,
  Register,
  Registered,
} from '../../server/protocol/index.js';

type ExtSocket = Socket<ExtensionServerToClient, ExtensionClientToServer>;

/** What a scripted job can do: the same messages a real host sends. */
export interface JobApi {
  job: JobRun;
  started(): Promise<void>;
  output(text: string, stream?: 'stdout' | 'stderr'): Promise<void>;
  result(res: Omit<JobResult, 'taskId'>): Promise<void>;
  /** Resolves when the hub sends job:cancel for this job. */
  cancelled: Promise<JobCancel>;
}

export type JobScript = (api: JobApi) => Promise<void> | void;

/** Echo script: reports started, prints the code, succeeds with `{echo: code}`. */
export const echoScript: JobScript = async (api) => {
  await api.started();
  await api.output(`ran: ${api.job.code}\n`);
  await api.result({ status: 'succeeded', result: { echo: api.job.code } });
};

/**
 * A real Socket.IO client on `/extension` whose job behaviour the test scripts: the hub cannot tell it from a
 * host. Used where a test needs exact control of timing (loss mid-job, ignored cancels, refusals).
 */
export class ScriptedExtension {
  readonly socket: ExtSocket;
  readonly jobs: JobRun[] = [];
  readonly cancels: JobCancel[] = [];
  extensionId = '';
  private readonly cancelWaiters = new Map<string, (c: JobCancel) => void>();

  constructor(
    url: string,
    token: string,
    private readonly registration: Register,
    public script: JobScript = echoScript,
    opts: { accept?: (job: JobRun) => boolean } = {},
  ) {
    this.socket = io(`${url}/extension`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    this.socket.on('job:run', (job, ack) => {
      const accepted = opts.accept ? opts.accept(job) : true;
      ack(accepted ? { accepted: true } : { accepted: false, reason: 'scripted refusal' });
      if (!accepted) return;
      this.jobs.push(job);
      void this.run(job);
    });
    this.socket.on('job:cancel', (c) => {
      this.cancels.push(c);
      this.cancelWaiters.get(c.taskId)?.(c);
    });
  }

  /**
   * Host secrets the hubs issued, by registered id: a scripted host registering under an id again (a
   * reconnect, a replacement) presents it like a real host would. `secret: undefined` in a registration
   * opts out (takeover tests).
   */
  static readonly secrets = new Map<string, string>();

  async start(): Promise<Registered> {
    const key = this.registration.id ?? this.registration.name;
    const known = ScriptedExtension.secrets.get(key);
    const registration =
      'secret' in this.registration || !known ? this.registration : { ...this.registration, secret: known };
    const res = (await this.socket.timeout(5_000).emitWithAck('register', registration)) as Ack<Registered>;
    if (!res.ok) throw new Error(`register failed: ${res.error.code}: ${res.error.message}`);
    this.extensionId = res.data.extensionId;
    if (res.data.hostSecret) ScriptedExtension.secrets.set(key, res.data.hostSecret);
    return res.data;
  }

  close(): void {
    this.socket.disconnect();
  }

  private async run(job: JobRun): Promise<void> {
    const send = async <E extends 'job:started' | 'job:output' | 'job:result'>(
      event: E,
      payload: unknown,
    ) => {
      const emit = this.socket.timeout(5_000).emitWithAck as (e: string, p: unknown) => Promise<Ack<unknown>>;
      const res = await emit.call(this.socket.timeout(5_000), event, payload);
      if (!res.ok) throw new Error(`${event} refused: ${res.error.message}`);
    };
    const cancelled = new Promise<JobCancel>((resolve) => this.cancelWaiters.set(job.taskId, resolve));
    const api: JobApi = {
      job,
      started: () => send('job:started', { taskId: job.taskId }),
      output: (text, stream = 'stdout') => send('job:output', { taskId: job.taskId, stream, text }),
      result: (res) => send('job:result', { taskId: job.taskId, ...res }),
      cancelled,
    };
    try {
      await this.script(api);
    } catch {
      // A script cut short by a disconnect is expected in loss tests.
    }
  }
}

/** Starts a scripted extension and waits for its registration. */
export async function scriptedExtension(
  url: string,
  token: string,
  registration: Register,
  script?: JobScript,
  opts?: { accept?: (job: JobRun) => boolean },
): Promise<ScriptedExtension> {
  const ext = new ScriptedExtension(url, token, registration, script, opts);
  await ext.start();
  return ext;
}

/**
 * Another client's work in flight: a task running on its own extension that prints `before`, waits until
 * `release()`, prints `after` and succeeds. Tests that misbehave use it to show nobody else is disturbed.
 */
export async function gatedTask(
  hub: { url: string; tokens: { extension: string; operator: string } },
  name: string,
): Promise<{ ext: ScriptedExtension; taskId: string; release: () => void }> {
  let release = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name }, async (api) => {
    await api.started();
    await api.output('before\n');
    await gate;
    await api.output('after\n');
    await api.result({ status: 'succeeded', result: 'bystander ok' });
  });
  const res = await fetch(`${hub.url}/api/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hub.tokens.operator}`, 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'bystander', target: { extensionId: ext.extensionId } }),
  });
  if (res.status !== 201) throw new Error(`bystander task not created: ${res.status}`);
  const task = (await res.json()) as { id: string };
  return { ext, taskId: task.id, release };
}

/**
 * Job behaviour chosen by the code: `emit(N)` streams N chunks, `fail()` raises a ValueError, `hang()` waits
 * for the hub to stop it; anything else prints `ran: CODE` and succeeds with `{echo: CODE}`.
 */
export const codeDrivenScript: JobScript = async (api) => {
  const code = api.job.code;
  await api.started();
  const emit = /^emit\((\d+)\)/.exec(code);
  if (emit) {
    const n = Number(emit[1]);
    for (let i = 0; i < n; i++) {
      await api.output(`chunk ${i}\n`);
      await new Promise((r) => setTimeout(r, 15));
    }
    return api.result({ status: 'succeeded', result: { chunks: n } });
  }
  if (code.startsWith('fail(')) {
    await api.output('Traceback (most recent call last):\nValueError: boom\n', 'stderr');
    return api.result({ status: 'failed', error: { message: 'ValueError: boom', type: 'ValueError' } });
  }
  if (code.startsWith('hang(')) {
    const stop = await api.cancelled;
    return api.result({ status: stop.reason });
  }
  await api.output(`ran: ${code}\n`);
  await api.result({ status: 'succeeded', result: { echo: code } });
};
