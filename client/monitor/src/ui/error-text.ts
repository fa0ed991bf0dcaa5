import type { ClientError } from '../net/connection.js';

const TITLES: Partial<Record<ClientError['code'], string>> = {
  forbidden: 'Not allowed for your role',
  unauthorized: 'Not signed in',
  bad_request: 'Invalid request',
  policy_denied: 'Refused by the safety policy',
  not_found: 'Not found',
  task_finished: 'Already finished',
  rate_limited: 'Too many requests',
  payload_too_large: 'Too large',
  timeout: 'No answer',
  offline: 'Offline',
};

/** An error as one readable line: what kind of refusal, the hub's code, its message, the field at fault. */
export function errorText(err: ClientError): string {
  const title = TITLES[err.code] ?? 'Error';
  return `${title} (${err.code}): ${err.message}${err.field ? ` [field: ${err.field}]` : ''}`;
}
