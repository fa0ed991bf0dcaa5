import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HubConfig } from '../config.js';
import { HubError } from '../errors.js';
import type { ResourceInput } from '../protocol/plugins.js';
import { extensionFor, type MediaKind, mediaKind } from './media.js';

type Resource = Required<Pick<ResourceInput, 'type' | 'data' | 'mime_type'>> & {
  metadata?: Record<string, unknown>;
};

/** What a plugin is handed for one input resource: a local file it may read. */
export interface ResolvedResource {
  type: Resource['type'];
  path: string;
  mime_type: string;
  size: number;
  sha256: string | null;
  metadata: Record<string, unknown>;
}

const MB = 1024 * 1024;

/**
 * Turns resource inputs into local files: local paths confined to the configured roots (no `..`, no symlink
 * out), URLs streamed with the size limit enforced while reading and a timeout, base64 decoded; downloads and
 * decoded data land in a cache keyed by their SHA-256, so the same content is stored once.
 */
export class ResourceResolver {
  readonly cacheDir: string;

  constructor(
    private readonly config: HubConfig,
    /** Plugin outputs: always readable, so one task's output can feed the next. */
    readonly outputsDir: string,
  ) {
    this.cacheDir = path.resolve(config.dataDir, 'resource-cache');
  }

  limitFor(mime: string): { kind: MediaKind; max: number } {
    const kind = mediaKind(mime);
    const { resourceMaxImageBytes, resourceMaxVideoBytes, resourceMaxAudioBytes } = this.config;
    const max =
      kind === 'video'
        ? resourceMaxVideoBytes
        : kind === 'audio'
          ? resourceMaxAudioBytes
          : resourceMaxImageBytes;
    return { kind, max };
  }

  /** Checks that are cheap and certain (paths, base64 size) before a task exists: a bad input is a 4xx. */
  async precheck(resources: readonly Resource[], field = 'resources'): Promise<void> {
    for (const [i, r] of resources.entries()) {
      const f = `${field}.${i}.data`;
      if (r.type === 'local_path') await this.local(r, f);
      else if (r.type === 'base64') this.decode(r, f);
      else this.urlOf(r, f);
    }
  }

  async resolve(r: Resource, field: string, signal: AbortSignal): Promise<ResolvedResource> {
    if (r.type === 'local_path') return this.local(r, field);
    if (r.type === 'base64') return this.store(r, this.decode(r, field));
    return this.download(r, field, signal);
  }

  private async local(r: Resource, field: string): Promise<ResolvedResource> {
    // Refused before touching the disk: a `..` segment is a traversal attempt whatever it resolves to.
    if (r.data.split(/[\\/]/).includes('..'))
      throw new HubError('bad_request', `${field}: a local path may not contain ".."`, { field });
    if (r.data.includes('\0')) throw new HubError('bad_request', `${field}: not a valid path`, { field });
    const roots = await this.roots();
    let real: string;
    try {
      real = await realpath(path.resolve(r.data));
    } catch {
      throw new HubError('not_found', `${field}: no such file ${r.data}`, { field });
    }
    // Checked on the real path, so a symlink inside a root that points outside it is refused too.
    if (!roots.some((root) => real === root || real.startsWith(root + path.sep))) {
      throw new HubError(
        'forbidden',
        `${field}: ${r.data} is outside the folders resources may be read from (SWITCHBOARD_RESOURCE_ROOTS)`,
        { field },
      );
    }
    const info = await stat(real);
    if (!info.isFile()) throw new HubError('bad_request', `${field}: ${r.data} is not a file`, { field });
    this.checkSize(info.size, r.mime_type, field);
    return {
      type: r.type,
      path: real,
      mime_type: r.mime_type,
      size: info.size,
      sha256: null,
      metadata: r.metadata ?? {},
    };
  }

  private async roots(): Promise<string[]> {
    const out: string[] = [];
    for (const dir of [...this.config.resourceRoots, this.outputsDir]) {
      try {
        out.push(await realpath(path.resolve(dir)));
      } catch {
        // A root that does not exist (yet) admits nothing.
      }
    }
    return out;
  }

  private decode(r: Resource, field: string): Buffer {
    const text = r.data.replace(/^data:[^;,]*;base64,/, '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text))
      throw new HubError('bad_request', `${field}: not valid base64`, { field });
    // Sized from the text before decoding, so an oversized body is not decoded at all.
    this.checkSize(
      Math.floor((text.length * 3) / 4) - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0),
      r.mime_type,
      field,
    );
    return Buffer.from(text, 'base64');
  }

  private urlOf(r: Resource, field: string): URL {
    let url: URL;
    try {
      url = new URL(r.data);
    } catch {
      throw new HubError('bad_request', `${field}: not a URL`, { field });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new HubError('bad_request', `${field}: only http and https URLs are fetched`, { field });
    return url;
  }

  private checkSize(size: number, mime: string, field: string): void {
    const { kind, max } = this.limitFor(mime);
    if (size > max) {
      throw new HubError(
        'payload_too_large',
        `${field}: ${kind === 'other' ? 'the resource' : `the ${kind}`} is larger than the ${kind} limit of ${max} bytes (${(max / MB).toFixed(1)} MB)`,
        { field, details: { limit: max, kind } },
      );
    }
  }

  private async store(r: Resource, bytes: Buffer): Promise<ResolvedResource> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = path.join(this.cacheDir, `${sha256}.${extensionFor(r.mime_type)}`);
    await mkdir(this.cacheDir, { recursive: true });
    const existing = await stat(file).catch(() => null);
    if (!existing) {
      const tmp = `${file}.${randomBytes(4).toString('hex')}.part`;
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    }
    return {
      type: r.type,
      path: file,
      mime_type: r.mime_type,
      size: bytes.length,
      sha256,
      metadata: r.metadata ?? {},
    };
  }

  private async download(r: Resource, field: string, taskSignal: AbortSignal): Promise<ResolvedResource> {
    const url = this.urlOf(r, field);
    const { max } = this.limitFor(r.mime_type);
    const timeoutMs = this.config.resourceUrlTimeoutS * 1000;
    const signal = AbortSignal.any([taskSignal, AbortSignal.timeout(timeoutMs)]);
    await mkdir(this.cacheDir, { recursive: true });
    const tmp = path.join(this.cacheDir, `dl-${randomBytes(8).toString('hex')}.part`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      const res = await fetch(url, { signal, redirect: 'follow' });
      if (!res.ok || !res.body)
        throw new HubError('bad_request', `${field}: ${url.href} answered ${res.status}`, { field });
      const declared = Number(res.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > 0) this.checkSize(declared, r.mime_type, field);
      const out = createWriteStream(tmp);
      try {
        // The limit is enforced while reading: an endless body is cut off at limit + 1 bytes.
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          size += chunk.byteLength;
          if (size > max) this.checkSize(size, r.mime_type, field);
          hash.update(chunk);
          if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        }
      } finally {
        await new Promise<void>((resolve) => out.end(resolve));
      }
    } catch (err) {
      await rm(tmp, { force: true });
      if (err instanceof HubError) throw err;
      if (taskSignal.aborted) throw err;
      if (signal.aborted)
        throw new HubError(
          'timed_out',
          `${field}: ${url.href} did not finish within ${this.config.resourceUrlTimeoutS}s`,
          { field },
        );
      throw new HubError('bad_request', `${field}: could not fetch ${url.href}: ${(err as Error).message}`, {
        field,
      });
    }
    const sha256 = hash.digest('hex');
    const file = path.join(this.cacheDir, `${sha256}.${extensionFor(r.mime_type)}`);
    if (await stat(file).catch(() => null)) await rm(tmp, { force: true });
    else await rename(tmp, file);
    return {
      type: r.type,
      path: file,
      mime_type: r.mime_type,
      size,
      sha256,
      metadata: { ...r.metadata, source_url: url.href },
    };
  }
}
