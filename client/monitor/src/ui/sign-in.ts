import { h } from './dom.js';

/** The sign-in card: one token field. The hub decides whether it is good (the socket handshake). */
export function signInView(onSubmit: (token: string) => void, message = ''): HTMLElement {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'sb_…',
    'data-testid': 'token-input',
  });
  const form = h(
    'form',
    {
      class: 'signin-card',
      'aria-labelledby': 'signin-title',
      onsubmit: (e) => {
        e.preventDefault();
        const token = input.value.trim();
        if (token) onSubmit(token);
      },
    },
    h(
      'div',
      { class: 'brand big' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
      'Switchboard',
    ),
    h('h1', { id: 'signin-title' }, 'Sign in to the monitor'),
    h(
      'p',
      { class: 'muted' },
      'Paste a token (admin, operator or viewer). The hub prints them, and a sign-in link, when it starts.',
    ),
    h('label', { for: 'token' }, 'Token'),
    input,
    message ? h('div', { class: 'form-error', role: 'alert', 'data-testid': 'signin-error' }, message) : null,
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'signin-submit' }, 'Sign in'),
  );
  queueMicrotask(() => input.focus());
  return h('main', { class: 'signin' }, form);
}
