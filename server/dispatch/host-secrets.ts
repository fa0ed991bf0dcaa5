import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { HubError } from '../errors.js';

export const HOST_SECRETS_FILE = 'host-secrets.json';
/** HTTP header a polling host presents its secret in, and in which the hub hands out a new one. */
export const HOST_SECRET_HEADER = 'x-switchboard-host-secret';

const SecretsFile = z.object({ version: z.literal(1), hosts: z.record(z.string(), z.string()) });

function hash(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/**
 * Each host's own credential. The extension token says "a host may connect"; the host secret says "this is
 * the host that owns this id". The first registration of an id gets a secret; from then on, registering or
 * polling under that id needs it, so one token holder cannot take over another host's jobs. Kept as SHA-256
 * hashes (the secrets are 32 random bytes, so a plain hash is enough) in `<dataDir>/host-secrets.json`,
 * mode 0600, so hosts keep their ids across hub restarts.
 */
export class HostSecrets {
  private readonly hashes = new Map<string, Buffer>();
  private readonly file: string | null;

  constructor(dataDir: string | null) {
    this.file = dataDir ? join(dataDir, HOST_SECRETS_FILE) : null;
    if (!this.file || !existsSync(this.file)) return;
    let parsed: z.infer<typeof SecretsFile>;
    try {
      parsed = SecretsFile.parse(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch (err) {
      throw new Error(
        `${this.file} is not a host secrets file (${(err as Error).message}); fix it, or delete it (every host then registers anew)`,
      );
    }
    for (const [id, hex] of Object.entries(parsed.hosts)) this.hashes.set(id, Buffer.from(hex, 'hex'));
  }

  /**
   * Checks a host's claim to `id`. An id seen for the first time is the caller's: it keeps the secret it
   * presents, or gets a new one (returned, to be handed to the host once). A known id needs its secret;
   * anything else is refused with `forbidden` before the live host is touched.
   */
  claim(id: string, presented: string | undefined): string | undefined {
    const known = this.hashes.get(id);
    if (!known) {
      const issued = presented ? undefined : `shs_${randomBytes(32).toString('base64url')}`;
      this.hashes.set(id, hash(presented ?? (issued as string)));
      this.save();
      return issued;
    }
    this.verify(id, presented);
    return undefined;
  }

  /** Throws `forbidden` (naming the id) unless `presented` is the secret of the known host `id`. */
  verify(id: string, presented: string | undefined): void {
    const known = this.hashes.get(id);
    if (!known) return;
    if (presented && timingSafeEqual(hash(presented), known)) return;
    throw new HubError(
      'forbidden',
      `extension id ${id} belongs to another host: ${presented ? 'wrong' : 'no'} host secret presented`,
      { field: 'secret' },
    );
  }

  /**
   * Issues a new secret for `id` (admin: a host set up ahead of time, or a secret rotated); any earlier one
   * stops working. The live host keeps its connection; its next registration needs the new secret.
   */
  issue(id: string): string {
    const secret = `shs_${randomBytes(32).toString('base64url')}`;
    this.hashes.set(id, hash(secret));
    this.save();
    return secret;
  }

  /** Forgets a host's secret (admin): the next host to register under the id gets a new one. */
  forget(id: string): boolean {
    const had = this.hashes.delete(id);
    if (had) this.save();
    return had;
  }

  private save(): void {
    if (!this.file) return;
    const hosts = Object.fromEntries([...this.hashes].map(([id, h]) => [id, h.toString('hex')]));
    const dir = join(this.file, '..');
    mkdirSync(dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ version: 1, hosts }, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}
