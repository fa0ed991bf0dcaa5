import type { Role } from '../protocol/common.js';

/** What each action needs. Admin may do everything; operator includes viewer rights. */
export type Action = 'read' | 'subscribe' | 'submit' | 'cancel' | 'register' | 'run_jobs' | 'admin';

const GRANTS: Record<Role, ReadonlySet<Action>> = {
  admin: new Set<Action>(['read', 'subscribe', 'submit', 'cancel', 'register', 'run_jobs', 'admin']),
  operator: new Set<Action>(['read', 'subscribe', 'submit', 'cancel']),
  viewer: new Set<Action>(['read', 'subscribe']),
  extension: new Set<Action>(['register', 'run_jobs']),
};

export function can(role: Role, action: Action): boolean {
  return GRANTS[role].has(action);
}
