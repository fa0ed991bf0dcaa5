import { readFile } from 'node:fs/promises';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

type Content = CallToolResult['content'][number];

/** Largest output inlined as base64 in an MCP result; larger ones go as a link to the hub's outputs route. */
const INLINE_MAX_BYTES = 16 * 1024 * 1024;

interface StoredPart {
  type?: unknown;
  url?: unknown;
  uri?: unknown;
  mimeType?: unknown;
  size?: unknown;
}

interface StoredOutput {
  url?: unknown;
  path?: unknown;
}

/**
 * A plugin task keeps its binary outputs as files (the stored `content` names them by `url`, not base64), so
 * an MCP client gets them back in MCP's own shapes: images and audio inline, an embedded resource as a blob,
 * anything too large as a `resource_link` to the hub's outputs route. Parts already in MCP's shape pass as
 * they are.
 */
export async function mcpContentOf(result: unknown): Promise<Content[] | undefined> {
  const r = result as { content?: unknown; output_resources?: unknown } | null;
  if (!r || !Array.isArray(r.content)) return undefined;
  const outputs = (Array.isArray(r.output_resources) ? r.output_resources : []) as StoredOutput[];
  const parts: Content[] = [];
  for (const raw of r.content as StoredPart[]) {
    if (typeof raw?.url !== 'string') {
      parts.push(raw as Content);
      continue;
    }
    const mimeType = typeof raw.mimeType === 'string' ? raw.mimeType : 'application/octet-stream';
    const file = outputs.find((o) => o.url === raw.url)?.path;
    const size = typeof raw.size === 'number' ? raw.size : Number.POSITIVE_INFINITY;
    const name = raw.url.split('/').pop() ?? 'output';
    if (typeof file !== 'string' || size > INLINE_MAX_BYTES) {
      parts.push({ type: 'resource_link', uri: raw.url, name, mimeType });
      continue;
    }
    const data = (await readFile(file)).toString('base64');
    if (raw.type === 'image' || raw.type === 'audio') parts.push({ type: raw.type, data, mimeType });
    else {
      const uri = typeof raw.uri === 'string' ? raw.uri : raw.url;
      parts.push({ type: 'resource', resource: { uri, mimeType, blob: data } });
    }
  }
  return parts;
}
