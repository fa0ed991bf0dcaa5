/** What the bench runner and its server processes say to each other over IPC. */
export type ServerKind = 'hub' | 'socket.io' | 'ws' | 'fastify';

export type BenchRequest = { cmd: 'gc' } | { cmd: 'seed'; events: number } | { cmd: 'exit' };

export type BenchReply =
  | { cmd: 'ready'; url: string }
  | { cmd: 'gc'; heapUsed: number; rss: number }
  | { cmd: 'seed'; taskId: string };

/** Fixed tokens so the load side can authenticate without reading the hub's tokens file. */
export const BENCH_TOKENS = {
  adminToken: 'bench-admin-token-0123456789',
  operatorToken: 'bench-operator-token-0123456789',
  viewerToken: 'bench-viewer-token-0123456789',
  extensionToken: 'bench-extension-token-0123456789',
} as const;

/**
 * The task id the bare relays put in their events: as long as the hub's (`t_` + 22), so both send the same
 * bytes per delivery.
 */
export const BARE_TASK_ID = `t_${'0'.repeat(22)}`;
