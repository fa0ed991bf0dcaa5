import pino, { type Logger } from 'pino';

/** Paths pino blanks out wherever they appear: tokens, keys, vault values and code bodies never reach a log. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'vault',
  '*.vault',
  'code',
  '*.code',
  'input.code',
  // Workflow secrets: model API keys and vault values, wherever a log line nests them.
  'llmApiKey',
  '*.llmApiKey',
  '*.*.api_key',
  '*.*.apiKey',
  '*.*.vault',
  'headers.authorization',
  '*.headers.authorization',
  // Host secrets (registration payloads, polling headers).
  'secret',
  '*.secret',
  'hostSecret',
  '*.hostSecret',
  "req.headers['x-switchboard-host-secret']",
];

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'switchboard' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/**
 * A logger for lines the hub builds only from ids, statuses, reasons and numbers (the one line per task): none
 * of their keys is a redaction path and no value is an object, so the redactor would change nothing while
 * costing more than the rest of the line. Anything that carries input, errors or payloads goes through the
 * main logger, which redacts.
 */
export function fixedFieldLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}
