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
  policyMode: [
    'SWITCHBOARD_POLICY_MODE',
    z.enum(['strict', 'permissive', 'off']).default('strict'),
    'Python policy: refuse, warn, or skip',
  ],
  policyMaxCodeBytes: [
    'SWITCHBOARD_POLICY_MAX_CODE_BYTES',
    z.coerce.number().int().positive().default(262_144),
    'Largest code body accepted',
  ],
  policyDenyImports: ['SWITCHBOARD_POLICY_DENY_IMPORTS', csv.default([]), 'Extra denied modules'],
  policyDenyCalls: ['SWITCHBOARD_POLICY_DENY_CALLS', csv.default([]), 'Extra denied calls (dotted)'],
  policyAllow: ['SWITCHBOARD_POLICY_ALLOW', csv.default([]), 'Default rules to lift (rule ids)'],
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
    'How long a stopped job may hold its slot before the hub frees it',
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
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    'pino log level',
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
  sseKeepaliveS: [
    'SSE_KEEPALIVE_INTERVAL',
    z.coerce.number().positive().default(15),
    'Seconds between SSE keep-alive comments',
  ],
} as const satisfies Record<string, readonly [string, z.ZodType, string]>;

type Spec = typeof CONFIG_ENV;
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
  for (const [key, [envName]] of Object.entries(CONFIG_ENV)) {
    const v = env[envName];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]) as keyof Spec;
      const envName = CONFIG_ENV[key]?.[0] ?? key;
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
