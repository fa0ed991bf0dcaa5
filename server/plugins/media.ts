/** Media kinds and file extensions for resources, by MIME type. */

export type MediaKind = 'image' | 'video' | 'audio' | 'other';

export function mediaKind(mime: string): MediaKind {
  const top = mime.split('/')[0]?.toLowerCase();
  if (top === 'image' || top === 'video' || top === 'audio') return top;
  return 'other';
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/svg+xml': 'svg',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/ogg': 'ogg',
  'audio/mp4': 'm4a',
  'application/json': 'json',
  'text/plain': 'txt',
  'application/gzip': 'gz',
};

export function extensionFor(mime: string): string {
  return EXTENSIONS[mime.toLowerCase()] ?? 'bin';
}

const MIME_BY_EXT = Object.fromEntries(Object.entries(EXTENSIONS).map(([m, e]) => [e, m]));

export function mimeForFile(name: string): string {
  const ext = name.split('.').pop()?.toLowerCase() ?? '';
  return MIME_BY_EXT[ext] ?? 'application/octet-stream';
}
