import { hubDownload } from '../../../core/http.js';
import { h } from '../ui/dom.js';

/** Outputs can be large images: a generous deadline for each. */
const DOWNLOAD_TIMEOUT_MS = 60_000;

/** An output file of a plugin task, as its result lists it. */
interface OutputResource {
  type: string;
  url: string | null;
  mime_type: string;
  size: number;
}

let bearer: string | null = null;

/** The page's token, for fetching output files (an <img src> cannot send an Authorization header). */
export function setOutputToken(token: string): void {
  bearer = token;
}

function outputsOf(result: unknown): OutputResource[] {
  if (!result || typeof result !== 'object') return [];
  const list = (result as { output_resources?: unknown }).output_resources;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (o): o is OutputResource =>
      !!o &&
      typeof o === 'object' &&
      typeof (o as OutputResource).url === 'string' &&
      typeof (o as OutputResource).mime_type === 'string',
  );
}

/**
 * A plugin task's outputs: images shown inline (fetched with the token into a blob URL), other files as
 * download links. Null when the result has none.
 */
export function outputsView(result: unknown): HTMLElement | null {
  const outputs = outputsOf(result);
  if (outputs.length === 0) return null;
  return h(
    'div',
    { class: 'plugin-outputs', 'data-testid': 'plugin-outputs' },
    outputs.map((o) => (o.mime_type.startsWith('image/') ? imageFigure(o) : fileLink(o))),
  );
}

/** Through the client core: the token, a deadline, and the SDK's error codes in the caption. */
async function fetchBlob(url: string, type: string): Promise<Blob> {
  const bytes = await hubDownload(
    { url: '', token: bearer ?? undefined, timeoutMs: DOWNLOAD_TIMEOUT_MS },
    url,
  );
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type });
}

function imageFigure(o: OutputResource): HTMLElement {
  const img = h('img', {
    class: 'output-image',
    alt: `output ${o.mime_type}`,
    'data-testid': 'output-image',
  });
  const caption = h('figcaption', { class: 'muted' }, `${o.mime_type} · ${o.size} bytes`);
  fetchBlob(o.url as string, o.mime_type).then(
    (blob) => {
      img.src = URL.createObjectURL(blob);
    },
    (err: unknown) => {
      const code = (err as { code?: string }).code;
      caption.textContent = `could not load the image (${code ? `${code}: ` : ''}${String((err as Error).message ?? err)})`;
    },
  );
  return h('figure', { class: 'output-figure' }, img, caption);
}

function fileLink(o: OutputResource): HTMLElement {
  const a = h('a', { href: '#', class: 'output-file' }, `${o.mime_type} · ${o.size} bytes`);
  a.addEventListener('click', (ev) => {
    ev.preventDefault();
    void fetchBlob(o.url as string, o.mime_type).then((blob) =>
      window.open(URL.createObjectURL(blob), '_blank'),
    );
  });
  return a;
}
