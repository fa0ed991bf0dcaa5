import type { HostLogEntry } from '../../../server/protocol/index.js';
import { ExtensionLogs } from '../../../server/protocol/index.js';
import { SwitchboardError } from '../../core/errors.js';
import type { SwitchboardClient } from '../../sdk/index.js';
import type { Output } from '../output.js';

/** Finds an extension by id or by name (the name must be unambiguous). */
async function resolveExtension(client: SwitchboardClient, nameOrId: string): Promise<string> {
  const all = await client.extensions();
  if (all.some((e) => e.id === nameOrId)) return nameOrId;
  const named = all.filter((e) => e.name === nameOrId);
  if (named.length === 1 && named[0]) return named[0].id;
  if (named.length > 1) {
    const ids = named.map((e) => e.id).join(', ');
    throw new SwitchboardError(
      'bad_request',
      `several extensions are named ${nameOrId} (${ids}): give the id`,
    );
  }
  return nameOrId; // perhaps one that left: the hub keeps its log for a while, and answers not_found if not
}

function print(out: Output, line: HostLogEntry): void {
  if (out.json) {
    out.record({ type: 'log', ...line });
    return;
  }
  const job = line.taskId ? ` (task ${line.taskId})` : '';
  out.print(`${line.ts} ${line.level.toUpperCase().padEnd(7)} [${line.source}] ${line.message}${job}`);
}

/**
 * `switchboard extensions logs NAME [--follow]`: the host log the hub keeps for an extension; with --follow
 * the live lines too, until interrupted (Ctrl-C exits 0).
 */
export async function extensionLogs(
  client: SwitchboardClient,
  out: Output,
  nameOrId: string,
  follow: boolean,
): Promise<number> {
  const id = await resolveExtension(client, nameOrId);
  if (!follow) {
    const kept = await client.http.extensionLogs(id);
    if (kept.dropped > 0) out.note(`(${kept.dropped} older lines no longer kept)`);
    for (const line of kept.lines) print(out, line);
    if (kept.lines.length === 0) out.note(`no log lines from ${id} (is forward_log on in its bridge?)`);
    return 0;
  }
  await client.connect();
  const socket = client.socket;
  if (!socket) throw new SwitchboardError('hub_unreachable', 'the socket is not open');
  let last = 0;
  socket.on('extension:log', (line) => {
    if (line.extensionId !== id || line.seq <= last) return;
    last = line.seq;
    print(out, line);
  });
  const subscribe = async () => {
    const ack = await socket
      .timeout(10_000)
      .emitWithAck('extension:logs:subscribe', { extensionId: id, afterSeq: last });
    if (!ack.ok) throw new SwitchboardError(ack.error.code, ack.error.message);
    const kept = ExtensionLogs.parse(ack.data);
    for (const line of kept.lines) {
      if (line.seq <= last) continue;
      last = line.seq;
      print(out, line);
    }
  };
  await subscribe();
  out.note(`following the log of ${id} (Ctrl-C to stop)`);
  // After a reconnect the hub has forgotten this socket's follow: ask again from the last seq seen.
  socket.on('connect', () => void subscribe().catch(() => {}));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  return 0;
}
