import { EventEmitter } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { parseHubUrls } from '../../client/core/hubs.js';
import {
  JobCancel,
  type JobResult,
  JobRun,
  type JobRunAck,
  Register,
  type Registered,
} from '../../server/protocol/index.js';
import { HostPolicy, type HostPolicyOptions } from './host-policy.js';
import { type ConnectionState, HubLink } from './hub-link.js';
import { DEFAULT_COALESCER, OutputCoalescer } from './output-coalescer.js';
import {
  defaultPython,
  type JobOutcome,
  type OutputStream,
  type PythonJob,
  pythonVersion,
  runPython,
} from './python-runner.js';

export const HOST_APP = 'switchboard-reference-host';
export const HOST_VERSION = '0.1.0';

export interface ReferenceHostOptions {
  /**
   * Hub base URL, e.g. `http://127.0.0.1:8080` (the host connects to its `/extension` namespace), or several
   * processes of one scaled-out hub (a list, or comma-separated): on loss the host moves to the next one and
   * registers there with the same id and secret, carrying its running jobs' output and results.
   */
  url: string | readonly string[];
  /** An extension-role token. */
  token: string;
  name: string;
  /** Stable id; when absent the hub makes one, and the host keeps it across reconnects. */
  id?: string;
  labels?: string[];
  /** Jobs run at once; a `job:run` is refused while all slots are busy. Default 1. */
  concurrency?: number;
  /** Interpreter; `/usr/bin/python3` if it exists, else `python3`. */
  python?: string;
  /** Overrides the heartbeat period the hub asks for. */
  heartbeatMs?: number;
  /** How long `start()` waits for the first registration. Default 15 s; `Infinity` waits for ever. */
  startTimeoutMs?: number;
  /** How long the host waits for the hub's ack of each event. Default 10 s. */
  ackTimeoutMs?: number;
  /** Output characters kept while the hub is unreachable; more is dropped, and a notice says so. */
  maxQueuedOutputChars?: number;
  /** The host's own check of pushed code before it runs; strict by default, like the Kit bridge. */
  policy?: HostPolicyOptions;
  /** Time between SIGTERM and SIGKILL of a stopped job (default 1 s). */
  killGraceMs?: number;
  /** A stopped job whose process is still there after this long is reported stuck (default 3 s). */
  stuckAfterMs?: number;
  /**
   * With a hub that offers `result-report`: a job ending within this long (default 250 ms) is reported in
   * one message, its start and output folded into its result; a longer one is told started (with the
   * output so far) when it passes it. 0 reports every start at once.
   */
  foldWindowMs?: number;
  /**
   * Where the host keeps the secret the hub issues on its id's first registration (mode 0600); read at start
   * and presented on every registration, so the host keeps its id (and its jobs) across restarts. Without
   * it the secret lives in memory: reconnects work, a restarted process needs a fresh id.
   */
  secretFile?: string;
}

export interface ReferenceHostEvents {
  registered: [registered: Registered, reconnect: boolean];
  /** A job was accepted and its interpreter started. */
  job: [job: JobRun];
  /** A job ended; `result` is what is reported to the hub (nothing is reported for jobs killed by stop()). */
  'job:end': [result: JobResult];
  /** A stopped job's process did not go in time; the hub is told, and keeps its slot busy until it does. */
  'job:stuck': [taskId: string];
  connection: [state: ConnectionState, detail: string];
  /** Something went wrong that the host recovered from (an error ack, a lost ack, a bad hub message). */
  warning: [message: string];
}

interface ActiveJob {
  run: JobRun;
  child: PythonJob;
  output: OutputCoalescer;
}

/** A non-Kit extension host: dials out to a hub, registers, runs the Python jobs it is sent. */
export class ReferenceHost extends EventEmitter<ReferenceHostEvents> {
  private readonly concurrency: number;
  private readonly python: string;
  private readonly jobs = new Map<string, ActiveJob>();
  private readonly runningIds = new Set<string>();
  private link: HubLink | undefined;
  private readonly urls: string[];
  private pythonVersion: string | undefined;
  private policy: HostPolicy | undefined;
  private stopped = false;

  constructor(private readonly options: ReferenceHostOptions) {
    super();
    this.concurrency = options.concurrency ?? 1;
    this.python = options.python ?? defaultPython();
    const { id, name, labels, concurrency } = options;
    const checked = Register.safeParse({ id, name, labels, concurrency });
    if (!checked.success) throw new TypeError(`invalid host options: ${z.prettifyError(checked.error)}`);
    this.urls = parseHubUrls(options.url, 'url');
  }

  /** The hub the host is connected to (or dialling). */
  get hubUrl(): string | undefined {
    return this.link?.url;
  }

  /** Task ids of the jobs running now (live view). */
  get running(): ReadonlySet<string> {
    return this.runningIds;
  }

  /** The id the hub knows this host by, once registered. */
  get id(): string | undefined {
    return this.link?.extensionId;
  }

  /** Connects and registers; resolves with the first registration. Reconnects and re-registers by itself. */
  async start(): Promise<Registered> {
    if (this.link || this.stopped) throw new Error('a ReferenceHost starts once');
    this.pythonVersion = await pythonVersion(this.python);
    this.policy = await HostPolicy.create(this.options.policy);
    const { token, heartbeatMs } = this.options;
    const secret = this.options.secretFile ? readSecret(this.options.secretFile) : undefined;
    this.link = new HubLink(
      {
        urls: this.urls,
        token,
        heartbeatMs,
        ackTimeoutMs: this.options.ackTimeoutMs ?? 10_000,
        startTimeoutMs: this.options.startTimeoutMs ?? 15_000,
        maxQueuedOutputChars: this.options.maxQueuedOutputChars ?? 16 * 1024 * 1024,
        ...(secret ? { secret } : {}),
      },
      {
        registration: () => this.registration(),
        runningIds: () => [...this.runningIds],
        jobRun: (payload, ack) => {
          const { reply, run } = this.admit(payload);
          ack(reply);
          if (run) this.startJob(run);
        },
        jobCancel: (payload) => this.cancel(payload),
        registered: (registered, reconnect) => this.emit('registered', registered, reconnect),
        connection: (state, detail) => this.emit('connection', state, detail),
        warning: (message) => this.emit('warning', message),
        secretIssued: (issued) => {
          if (this.options.secretFile) writeSecret(this.options.secretFile, issued);
        },
      },
    );
    return this.link.connect();
  }

  /** Kills the running jobs (the hub sees the host leave and requeues or fails them) and disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    const ends = [...this.jobs.values()].map(({ child }) => {
      child.stop('cancelled');
      return child.done;
    });
    await Promise.allSettled(ends);
    this.link?.close();
  }

  private registration(): Register {
    return {
      id: this.options.id,
      name: this.options.name,
      labels: this.options.labels ?? [],
      concurrency: this.concurrency,
      capabilities: {
        hostApp: HOST_APP,
        hostVersion: HOST_VERSION,
        ...(this.pythonVersion ? { pythonVersion: this.pythonVersion } : {}),
      },
      running: [...this.runningIds],
    };
  }

  /** Decides on a `job:run` at once: the ack, and the job to start if accepted. */
  private admit(payload: unknown): { reply: JobRunAck; run?: JobRun } {
    const parsed = JobRun.safeParse(payload);
    if (!parsed.success) return refuse(`invalid job:run: ${z.prettifyError(parsed.error)}`);
    const run = parsed.data;
    if (this.stopped) return refuse('host is stopping');
    // The same attempt sent again (a lost ack) while it runs here or its result is on its way: accepted, not
    // run twice. A new attempt of a job still stopping here waits: refused now, the hub offers it again.
    const current = this.jobs.get(run.taskId)?.run.attempt ?? this.link?.pendingResultAttempt(run.taskId);
    if (current === run.attempt) return { reply: { accepted: true } };
    if (this.jobs.has(run.taskId)) return refuse(`attempt ${current} of this task is still stopping here`);
    if (this.jobs.size >= this.concurrency) {
      return refuse(`busy: ${this.concurrency} of ${this.concurrency} slots in use`);
    }
    return { reply: { accepted: true }, run };
  }

  private startJob(run: JobRun): void {
    const link = this.link;
    if (!link) return;
    const { taskId } = run;
    const verdict = this.policy?.check(run.code) ?? { warnings: [] };
    // `result-report`: the start (and the output so far) is told once the job passes the fold window or its
    // held output reaches a chunk, so a job that ends sooner is reported in one message.
    const windowMs = this.options.foldWindowMs ?? FOLD_WINDOW_MS;
    const fold = windowMs > 0 && link.supports('result-report');
    let announced = !fold;
    let startTimer: NodeJS.Timeout | undefined;
    const held: Array<{ stream: OutputStream; text: string }> = [];
    let heldChars = 0;
    const announce = () => {
      if (announced) return;
      announced = true;
      clearTimeout(startTimer);
      link.sendStarted(taskId, run.attempt);
      for (const h of held.splice(0)) link.sendOutput(taskId, run.attempt, h.stream, h.text);
    };
    if (verdict.refusal) {
      // Refused before anything runs: started then failed, as the Kit bridge reports a refusal.
      if (!fold) link.sendStarted(taskId, run.attempt);
      const result: JobResult = { taskId, attempt: run.attempt, status: 'failed', error: verdict.refusal };
      link.sendResult(fold ? { ...result, output: [] } : result);
      this.emit('job:end', result);
      return;
    }
    const output = new OutputCoalescer((stream, text) => {
      if (announced) return link.sendOutput(taskId, run.attempt, stream, text);
      held.push({ stream, text });
      heldChars += text.length;
      if (heldChars >= DEFAULT_COALESCER.maxChunkChars) announce();
    });
    for (const warning of verdict.warnings) output.push('stderr', warning);
    const child = runPython({
      code: run.code,
      python: this.python,
      timeoutMs: run.timeoutMs,
      onOutput: (stream, text) => output.push(stream, text),
      ...(this.options.killGraceMs !== undefined ? { killGraceMs: this.options.killGraceMs } : {}),
      ...(this.options.stuckAfterMs !== undefined ? { stuckAfterMs: this.options.stuckAfterMs } : {}),
      onStuck: () => {
        if (this.stopped) return;
        link.sendStuck(taskId, run.attempt, `the job's process (pid ${child.pid}) did not exit when stopped`);
        this.emit('job:stuck', taskId);
      },
    });
    this.jobs.set(taskId, { run, child, output });
    this.runningIds.add(taskId);
    if (fold) startTimer = setTimeout(announce, windowMs);
    else link.sendStarted(taskId, run.attempt);
    this.emit('job', run);
    void child.done.then((outcome) => {
      clearTimeout(startTimer);
      const folded = announced ? undefined : [...held, ...output.take()];
      if (!folded) output.flush();
      this.jobs.delete(taskId);
      this.runningIds.delete(taskId);
      if (this.stopped) return;
      const result: JobResult = { taskId, attempt: run.attempt, ...limitResult(outcome) };
      link.sendResult(folded ? { ...result, output: folded } : result);
      this.emit('job:end', result);
    });
  }

  private cancel(payload: unknown): void {
    const parsed = JobCancel.safeParse(payload);
    if (!parsed.success) {
      this.emit('warning', `invalid job:cancel: ${z.prettifyError(parsed.error)}`);
      return;
    }
    // Unknown or finished: nothing to stop; the hub has (or will get) the result.
    this.jobs.get(parsed.data.taskId)?.child.stop(parsed.data.reason);
  }
}

/**
 * How long a job may run before the hub is told it started, when the hub takes folded reports: a job that
 * ends sooner (and sends no output before) costs one message instead of three.
 */
export const FOLD_WINDOW_MS = 250;

/** Larger results are refused here: a message past the hub's buffer limit would cost the connection. */
export const MAX_RESULT_BYTES = 4 * 1024 * 1024;

function limitResult(outcome: JobOutcome): JobOutcome {
  if (outcome.result === undefined) return outcome;
  const bytes = Buffer.byteLength(JSON.stringify(outcome.result) ?? '');
  if (bytes <= MAX_RESULT_BYTES) return outcome;
  const message = `ResultTooLarge: the result is ${bytes} bytes of JSON; the limit is ${MAX_RESULT_BYTES}`;
  return { status: 'failed', error: { message, type: 'ResultTooLarge' } };
}

function refuse(reason: string): { reply: JobRunAck } {
  return { reply: { accepted: false, reason } };
}

function readSecret(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

function writeSecret(file: string, secret: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${secret}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
