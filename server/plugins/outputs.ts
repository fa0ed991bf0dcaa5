import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ResourceOutput } from '../protocol/plugins.js';
import { extensionFor, mediaKind } from './media.js';

/** URL path under which a task's output files are served (viewer token). */
export const OUTPUTS_ROUTE = '/api/v1/plugin-outputs';

export interface CollectedOutputs {
  outputs: ResourceOutput[];
  /** Text parts of the answer, joined: what the model or a CLI shows. */
  text: string;
  /** The content as stored: binary parts replaced by a reference to their file. */
  content: unknown[];
}

/**
 * Writes the binary parts of a tool's answer (images, audio, blob resources) under
 * `<data dir>/plugin-outputs/<task id>/`, so the task keeps a reference instead of megabytes of base64 and
 * clients fetch the files back over HTTP.
 */
export async function collectOutputs(
  outputsDir: string,
  taskId: string,
  result: CallToolResult,
): Promise<CollectedOutputs> {
  const dir = path.join(outputsDir, taskId);
  const outputs: ResourceOutput[] = [];
  const texts: string[] = [];
  const content: unknown[] = [];
  let n = 0;
  const save = async (
    base64: string,
    mime: string,
    hint: string | undefined,
    metadata: Record<string, unknown>,
  ) => {
    n += 1;
    const bytes = Buffer.from(base64, 'base64');
    const safeHint = hint?.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
    const name = `${n}-${safeHint || mediaKind(mime)}.${extensionFor(mime)}`.replace(
      /(\.[a-z0-9]+)\.\1$/,
      '$1',
    );
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, name);
    await writeFile(file, bytes);
    const kind = mediaKind(mime);
    const out: ResourceOutput = {
      type: kind === 'other' ? 'file' : kind,
      path: file,
      url: `${OUTPUTS_ROUTE}/${encodeURIComponent(taskId)}/${encodeURIComponent(name)}`,
      mime_type: mime,
      size: bytes.length,
      metadata,
    };
    outputs.push(out);
    return out;
  };
  for (const part of result.content ?? []) {
    if (part.type === 'text') {
      texts.push(part.text);
      content.push(part);
    } else if (part.type === 'image' || part.type === 'audio') {
      const meta = (part._meta as Record<string, unknown> | undefined) ?? {};
      const out = await save(part.data, part.mimeType, undefined, meta);
      content.push({ type: part.type, mimeType: part.mimeType, url: out.url, size: out.size });
    } else if (part.type === 'resource') {
      const r = part.resource;
      const mime = r.mimeType ?? 'application/octet-stream';
      if ('blob' in r && typeof r.blob === 'string') {
        const out = await save(r.blob, mime, path.posix.basename(r.uri), { uri: r.uri });
        content.push({ type: 'resource', uri: r.uri, mimeType: mime, url: out.url, size: out.size });
      } else {
        content.push(part);
        if ('text' in r && typeof r.text === 'string') texts.push(r.text);
      }
    } else {
      content.push(part);
    }
  }
  return { outputs, text: texts.join('\n'), content };
}
