import type { ClientError, Result } from '../net/connection.js';

const TITLES: Partial<Record<ClientError['code'], string>> = {
  forbidden: 'Not allowed for your role',
  unauthorized: 'Not signed in',
  bad_request: 'Invalid request',
  policy_denied: 'Refused by the safety policy',
  not_found: 'Not found',
  task_finished: 'Already finished',
  rate_limited: 'Too many requests',
  payload_too_large: 'Too large',
  request_timeout: 'No answer',
  hub_unreachable: 'Hub unreachable',
  bad_response: 'Unexpected answer',
};

/** An error as one readable line: what kind of refusal, the hub's code, its message, the field at fault. */
export function errorText(err: ClientError): string {
  const title = TITLES[err.code] ?? 'Error';
  return `${title} (${err.code}): ${err.message}${err.field ? ` [field: ${err.field}]` : ''}`;
}

/**
 * Runs a form's request: the button is locked while it is out, a refusal is shown in `errorBox` (with the
 * hub's code in `data-code`), and the answer comes back for the form to act on.
 */
export async function submitForm<T>(
  button: HTMLButtonElement,
  errorBox: HTMLElement,
  send: () => Promise<Result<T>>,
): Promise<Result<T>> {
  errorBox.hidden = true;
  button.disabled = true;
  const res = await send();
  button.disabled = false;
  if (res.ok) return res;
  errorBox.hidden = false;
  errorBox.dataset['code'] = res.error.code;
  errorBox.textContent = errorText(res.error);
  return res;
}
