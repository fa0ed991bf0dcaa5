export interface SseEvent {
  id: string | undefined;
  event: string;
  data: unknown;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** Parsed events, in order, as they arrive. */
  events: SseEvent[];
  /** Comment lines (keep-alives), as they arrive. */
  comments: string[];
  /** Resolves when the server ends the stream (or the client aborts). */
  ended: Promise<void>;
  /** Resolves once an event matches. */
  waitFor(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Hangs up. */
  abort(): void;
}

/** Opens an SSE response with fetch and parses it incrementally (ids, event names, JSON data, comments). */
export async function openSse(url: string, init: RequestInit & { token: string }): Promise<SseStream> {
  const controller = new AbortController();
  const { token, headers, ...rest } = init;
  const res = await fetch(url, {
    ...rest,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'text/event-stream',
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(headers as Record<string, string> | undefined),
    },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          parseBlock(buffer.slice(0, cut), events, comments);
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf('\n\n');
        }
        notify();
      }
    } catch {
      // aborted by the test
    }
    notify();
  })();
  let done = false;
  void ended.then(() => {
    done = true;
    notify();
  });
  return {
    status: res.status,
    headers: res.headers,
    events,
    comments,
    ended,
    abort: () => controller.abort(),
    waitFor: (match, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(match);
          if (hit) {
            cleanup();
            resolve(hit);
          } else if (done) {
            cleanup();
            reject(new Error(`stream ended without the event; saw ${events.map((e) => e.event).join(',')}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`no matching event in ${timeoutMs} ms; saw ${events.map((e) => e.event).join(',')}`),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}

function parseBlock(block: string, events: SseEvent[], comments: string[]): void {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) comments.push(line.slice(1).trim());
    else if (line.startsWith('id:')) id = line.slice(3).trim();
    else if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return;
  const text = data.join('\n');
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  events.push({ id, event, data: parsed });
}
