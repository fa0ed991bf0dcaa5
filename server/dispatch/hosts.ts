import type { HubContext } from '../context.js';

type HostDeps = Pick<HubContext, 'registry' | 'dispatcher' | 'logger' | 'hostSecrets'>;

import type { ExtensionLink } from './link.js';
import { type ExtensionRecord, extensionIdFor, type RegisterParsed } from './registry.js';

/**
 * Takes a host's registration: a host already online under the same id is replaced, keeping the jobs the new
 * connection says it still runs; the rest of the old connection's jobs count as lost.
 */
export function registerHost(
  ctx: HostDeps,
  reg: RegisterParsed,
  link: ExtensionLink,
): { record: ExtensionRecord; issuedSecret: string | undefined } {
  // The claim comes first: a host that cannot prove the id is refused before the live one is touched.
  const issuedSecret = ctx.hostSecrets.claim(reg.id ?? extensionIdFor(reg.name), reg.secret);
  const { record, replaced } = ctx.registry.register(reg, link);
  if (replaced) {
    for (const id of reg.running) replaced.running.delete(id);
    ctx.dispatcher.hostLost(replaced, 'was replaced by a new connection');
    replaced.link.close('another connection registered this extension id');
  }
  ctx.dispatcher.hostOnline(record, reg.running);
  ctx.logger.info(
    { extensionId: record.info.id, transport: link.transport, labels: record.info.labels },
    'extension online',
  );
  return { record, issuedSecret };
}

/** Drops a host; its jobs are requeued or failed unless a newer connection replaced it already. */
export function unregisterHost(ctx: HostDeps, record: ExtensionRecord, why: string, graceMs = 0): void {
  if (!ctx.registry.remove(record)) return;
  ctx.logger.info({ extensionId: record.info.id, why }, 'extension offline');
  ctx.dispatcher.hostLost(record, why, graceMs);
}
