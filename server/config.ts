import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';

const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
]);
const csv = z.union([
  z.array(z.string()),
  z.string().transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ),
]);
/** A cluster node id unique per process start: a restarted process is a new node, its old self gets adopted. */
function defaultNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .slice(0, 60) || 'hub';
  return `${host}-${process.pid}-${randomBytes(2).toString('hex')}`;
}
const token = z.string().min(16, 'tokens must be at least 16 characters');

/**
 * Every setting, its environment variable and its default. The README's configuration table is checked
 * against this list by a test, so add new settings here first.
 */
export const CONFIG_ENV = {
  port: ['PORT', z.coerce.number().int().min(0).max(65535).default(4000), 'TCP port (0 = any free port)'],
  host: ['HOST', z.string().min(1).default('127.0.0.1'), 'Interface to listen on'],
  dataDir: [
    'SWITCHBOARD_DATA_DIR',
    z.string().min(1).default('.switchboard'),
    'SQLite store and tokens file',
  ],
  store: ['SWITCHBOARD_STORE', z.enum(['sqlite', 'memory']).default('sqlite'), 'Task store driver'],
  redisUrl: [
    'SWITCHBOARD_REDIS_URL',
    z
      .string()
      .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
      .optional(),
    'Redis (redis://[:password@]host:port[/db]): task store in Redis instead of SQLite; unset = embedded',
  ],
  redisPrefix: [
    'SWITCHBOARD_REDIS_PREFIX',
    z.string().min(1).max(64).default('sb:'),
    'Prefix of every Redis key (several deployments on one Redis)',
  ],
  redisEventsMaxlen: [
    'SWITCHBOARD_REDIS_EVENTS_MAXLEN',
    z.coerce.number().int().min(0).default(0),
    'Events kept per task stream in Redis, trimmed approximately (0 = keep all)',
  ],
  nodeId: [
    'SWITCHBOARD_NODE_ID',
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, dot, dash or underscore (at most 100)')
      .default(() => defaultNodeId()),
    'This process in a cluster (SWITCHBOARD_REDIS_URL set); default <hostname>-<pid>-<4 hex>',
  ],
  nodeLeaseMs: [
    'SWITCHBOARD_NODE_LEASE_MS',
    z.coerce.number().int().min(500).max(600_000).default(5_000),
    'Cluster: a process silent this long is taken for dead and another adopts its tasks (heartbeat every third)',
  ],
  adminToken: ['SWITCHBOARD_ADMIN_TOKEN', token.optional(), 'Admin token (generated when unset)'],
  operatorToken: ['SWITCHBOARD_OPERATOR_TOKEN', token.optional(), 'Operator token: submit, cancel'],
  viewerToken: ['SWITCHBOARD_VIEWER_TOKEN', token.optional(), 'Viewer token: read, subscribe'],
  extensionToken: ['SWITCHBOARD_EXTENSION_TOKEN', token.optional(), 'Extension token: register, run jobs'],
  ipAllowlist: ['SWITCHBOARD_IP_ALLOWLIST', csv.default([]), 'Comma list of IPs or CIDRs; empty = all'],
  rateLimitPerMinute: [
    'SWITCHBOARD_RATE_LIMIT',
    z.coerce.number().int().min(0).default(1200),
    'Requests/messages per minute per token (0 = off)',
  ],
  authFailuresPerMinute: [
    'SWITCHBOARD_AUTH_FAILURE_LIMIT',
    z.coerce.number().int().min(0).default(30),
    'Failed authentications per minute per address before it is refused (0 = off)',
  ],
  policyMode: [
    'SWITCHBOARD_POLICY_MODE',
    z.enum(['strict', 'permissive', 'off', 'allowlist']).default('strict'),
    'Python policy: refuse, warn, skip, or allowlist (strict plus only listed modules, no dunders)',
  ],
  policyMaxCodeBytes: [
    'SWITCHBOARD_POLICY_MAX_CODE_BYTES',
    z.coerce.number().int().positive().default(262_144),
    'Largest code body accepted',
  ],
  policyDenyImports: ['SWITCHBOARD_POLICY_DENY_IMPORTS', csv.default([]), 'Extra denied modules'],
  policyDenyCalls: ['SWITCHBOARD_POLICY_DENY_CALLS', csv.default([]), 'Extra denied calls (dotted)'],
  policyAllow: ['SWITCHBOARD_POLICY_ALLOW', csv.default([]), 'Default rules to lift (rule ids)'],
  policyAllowModules: [
    'SWITCHBOARD_POLICY_ALLOW_MODULES',
    csv.default([]),
    'Allowlist mode: modules allowed besides the Kit default list',
  ],
  defaultTimeoutMs: [
    'SWITCHBOARD_DEFAULT_TIMEOUT_MS',
    z.coerce.number().int().positive().default(60_000),
    'Timeout of a code task that names none',
  ],
  maxTimeoutMs: [
    'SWITCHBOARD_MAX_TIMEOUT_MS',
    z.coerce.number().int().positive().default(3_600_000),
    'Largest timeout a task may ask for',
  ],
  defaultRetries: [
    'SWITCHBOARD_DEFAULT_RETRIES',
    z.coerce.number().int().min(0).max(10).default(1),
    'Re-dispatches after an extension is lost mid-job',
  ],
  cancelGraceMs: [
    'SWITCHBOARD_CANCEL_GRACE_MS',
    z.coerce.number().int().positive().default(5_000),
    'How long a host may take to confirm a stop before the hub shows it stuck (the slot stays busy until it confirms)',
  ],
  reconnectGraceMs: [
    'SWITCHBOARD_RECONNECT_GRACE_MS',
    z.coerce.number().int().min(0).default(5_000),
    'How long a dropped host keeps its jobs waiting for it to reconnect',
  ],
  heartbeatMs: [
    'SWITCHBOARD_HEARTBEAT_MS',
    z.coerce.number().int().positive().default(10_000),
    'Host heartbeat',
  ],
  maxPayloadBytes: [
    'SWITCHBOARD_MAX_PAYLOAD_BYTES',
    z.coerce.number().int().positive().default(1_048_576),
    'Largest HTTP body or socket message',
  ],
  subscriberQueueLimit: [
    'SWITCHBOARD_SUBSCRIBER_QUEUE',
    z.coerce.number().int().positive().default(10_000),
    'Packets queued for one slow socket before it is dropped',
  ],
  subscriberQueueBytes: [
    'SWITCHBOARD_SUBSCRIBER_QUEUE_BYTES',
    z.coerce.number().int().positive().default(8_388_608),
    'Bytes queued for one slow socket (Socket.IO or raw ws) before it is dropped',
  ],
  logLevel: [
    'SWITCHBOARD_LOG_LEVEL',
    // Any case, and Python's WARNING/CRITICAL, as the execution plane's LOG_LEVEL spells them.
    z
      .preprocess(
        (v) =>
          typeof v === 'string'
            ? ({ warning: 'warn', critical: 'fatal' }[v.toLowerCase()] ?? v.toLowerCase())
            : v,
        z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
      )
      .default('info'),
    'pino log level',
  ],
  logTraceEnabled: [
    'LOG_TRACE_ENABLED',
    bool.default(false),
    'Log every task event (type, seq, trace id, tool and node names; never payloads) at info',
  ],
  publicUrl: [
    'SWITCHBOARD_PUBLIC_URL',
    z.string().url().optional(),
    'URL printed at start (default from host/port)',
  ],
  trustProxy: ['SWITCHBOARD_TRUST_PROXY', bool.default(false), 'Take client IPs from X-Forwarded-For'],
  llmBaseUrl: [
    'SWITCHBOARD_LLM_BASE_URL',
    z.string().url().optional(),
    'OpenAI-compatible base URL for workflows (unset = the built-in switchboard-demo model)',
  ],
  llmApiKey: ['SWITCHBOARD_LLM_API_KEY', z.string().min(1).optional(), 'API key for that base URL'],
  llmModel: ['SWITCHBOARD_LLM_MODEL', z.string().min(1).optional(), 'Model name used when a run names none'],
  llmMaxRetries: [
    'SWITCHBOARD_LLM_MAX_RETRIES',
    z.coerce.number().int().min(0).max(10).default(2),
    'Retries of a model call on 408/409/429/5xx and connection errors, with backoff',
  ],
  llmTimeoutMs: [
    'SWITCHBOARD_LLM_TIMEOUT_MS',
    z.coerce.number().int().positive().default(120_000),
    'Timeout of one model request',
  ],
  tokenCoalesceMs: [
    'SWITCHBOARD_TOKEN_COALESCE_MS',
    z.coerce.number().int().min(0).max(1000).default(0),
    'Tokens are merged into one event per this many ms (0 = one per event-loop tick)',
  ],
  workflowTimeoutMs: [
    'SWITCHBOARD_WORKFLOW_TIMEOUT_MS',
    z.coerce.number().int().positive().default(600_000),
    'Timeout of a workflow run that names none',
  ],
  workflowMaxIterations: [
    'SWITCHBOARD_WORKFLOW_MAX_ITERATIONS',
    z.coerce.number().int().min(1).max(100).default(10),
    'Model turns a workflow run may take (tool loop) when it names no limit',
  ],
  httpToolTimeoutS: [
    'HTTP_TOOL_TIMEOUT',
    z.coerce.number().positive().default(30),
    'Seconds an HTTP tool call may take',
  ],
  httpToolMaxBytes: [
    'SWITCHBOARD_HTTP_TOOL_MAX_BYTES',
    z.coerce.number().int().positive().default(262_144),
    'Largest HTTP tool response kept (the rest is cut off and the model is told)',
  ],
  workflowOnDisconnect: [
    'SWITCHBOARD_WORKFLOW_ON_DISCONNECT',
    z.enum(['cancel', 'continue']).default('cancel'),
    'What hanging up a /v1/run_workflow stream does to the run (its on_disconnect default)',
  ],
  sseKeepaliveS: [
    'SSE_KEEPALIVE_INTERVAL',
    z.coerce.number().positive().default(15),
    'Seconds between SSE keep-alive comments',
  ],
  flowgramTimeoutMs: [
    'SWITCHBOARD_FLOWGRAM_TIMEOUT_MS',
    z.coerce.number().int().positive().default(600_000),
    'Timeout of a whole FlowGram run (all its nodes)',
  ],
  flowgramCodeTimeoutMs: [
    'SWITCHBOARD_FLOWGRAM_CODE_TIMEOUT_MS',
    z.coerce.number().int().positive().default(60_000),
    'Time one FlowGram code node may run',
  ],
  flowgramCodeMemoryMb: [
    'SWITCHBOARD_FLOWGRAM_CODE_MEMORY_MB',
    z.coerce.number().int().min(8).max(4096).default(64),
    'Memory limit of one FlowGram code node (MB)',
  ],
  pluginsDirs: [
    'SWITCHBOARD_PLUGINS_DIR',
    csv.default([]),
    'Extra folders of plugins (<dir>/<name>/plugin.yaml), comma separated; the built-in ones always load',
  ],
  pluginHeartbeatS: [
    'SWITCHBOARD_PLUGIN_HEARTBEAT_S',
    z.coerce.number().positive().default(5),
    'Seconds between heartbeat events on plugin-service SSE streams',
  ],
  resourceRoots: [
    'SWITCHBOARD_RESOURCE_ROOTS',
    csv.default([]),
    'Folders a local_path resource may read from (plus plugin outputs); empty = none',
  ],
  resourceUrlTimeoutS: [
    'SWITCHBOARD_RESOURCE_URL_TIMEOUT_S',
    z.coerce.number().positive().default(60),
    'Seconds a remote_url resource download may take',
  ],
  resourceMaxImageBytes: [
    'SWITCHBOARD_RESOURCE_MAX_IMAGE_BYTES',
    z.coerce
      .number()
      .int()
      .positive()
      .default(50 * 1024 * 1024),
    'Largest image resource (also any type that is not video or audio)',
  ],
  resourceMaxVideoBytes: [
    'SWITCHBOARD_RESOURCE_MAX_VIDEO_BYTES',
    z.coerce
      .number()
      .int()
      .positive()
      .default(500 * 1024 * 1024),
    'Largest video resource',
  ],
  resourceMaxAudioBytes: [
    'SWITCHBOARD_RESOURCE_MAX_AUDIO_BYTES',
    z.coerce
      .number()
      .int()
      .positive()
      .default(100 * 1024 * 1024),
    'Largest audio resource',
  ],
  mcpSessionIdleS: [
    'SWITCHBOARD_MCP_SESSION_IDLE_S',
    z.coerce.number().int().min(0).default(1800),
    'Seconds an MCP session with no request open lives on (0 = until DELETE)',
  ],
  mcpMaxSessions: [
    'SWITCHBOARD_MCP_MAX_SESSIONS',
    z.coerce.number().int().positive().default(100),
    'MCP sessions open at once; an initialize beyond it is refused',
  ],
  statsSampleMs: [
    'SWITCHBOARD_STATS_SAMPLE_MS',
    z.coerce.number().int().min(100).max(60_000).default(5000),
    'How often the overview stats (GET /api/v1/stats/overview) sample the metrics; 15 minutes are kept',
  ],
} as const satisfies Record<string, readonly [string, z.ZodType, string]>;

type Spec = typeof CONFIG_ENV;

/** Names the replaced systems use for the same settings, read when the hub's own variable is unset. */
export const CONFIG_ENV_ALIASES: Partial<Record<keyof Spec, string>> = { logLevel: 'LOG_LEVEL' };
export type HubConfig = { [K in keyof Spec]: z.output<Spec[K][1]> };
export type HubConfigInput = Partial<HubConfig>;

const shape = Object.fromEntries(Object.entries(CONFIG_ENV).map(([k, [, schema]]) => [k, schema])) as {
  [K in keyof Spec]: Spec[K][1];
};
export const ConfigSchema = z.object(shape).strict();

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads the environment into a validated config; throws ConfigError naming each bad variable. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const raw: Record<string, string> = {};
  const source: Record<string, string> = {};
  for (const [key, [envName]] of Object.entries(CONFIG_ENV)) {
    for (const name of [envName, CONFIG_ENV_ALIASES[key as keyof Spec]]) {
      const v = name ? env[name] : undefined;
      if (name && v !== undefined && v !== '') {
        raw[key] = v;
        source[key] = name;
        break;
      }
    }
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]) as keyof Spec;
      const envName = source[key] ?? CONFIG_ENV[key]?.[0] ?? key;
      return `  ${envName}: ${i.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data as HubConfig;
}

/** Builds a full config from a partial one (tests, embedding): defaults fill the rest. */
export function resolveConfig(input: HubConfigInput = {}): HubConfig {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`Invalid configuration: ${parsed.error.message}`);
  return parsed.data as HubConfig;
}
