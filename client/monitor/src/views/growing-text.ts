/** Past this many characters a chunk is closed at the next line end. */
const CHUNK_CHARS = 4_096;

/**
 * Text that only grows at its end, kept in block-level chunks split at line ends: the browser then lays
 * out only the last chunk when text is added, not the whole stream, however long it gets. Runs of one kind
 * (stdout, stderr) share a text node; a new kind starts a new run, wrapped in a span naming it.
 */
export class GrowingText {
  private chunk: HTMLElement | null = null;
  private node: Text | null = null;
  private kind: string | null = null;
  private size = 0;
  private lineEnded = true;

  constructor(
    private readonly el: HTMLElement,
    private readonly wrap: (kind: string, node: Text) => Node = (_kind, node) => node,
  ) {}

  write(text: string, kind = ''): void {
    let rest = text;
    while (rest) {
      if (this.size >= CHUNK_CHARS && this.lineEnded) this.newChunk();
      const room = CHUNK_CHARS - this.size;
      let cut = rest.length;
      if (rest.length > room) {
        const nl = rest.indexOf('\n', Math.max(0, room - 1));
        if (nl !== -1) cut = nl + 1;
      }
      this.put(rest.slice(0, cut), kind);
      rest = rest.slice(cut);
    }
  }

  private put(text: string, kind: string): void {
    if (!this.chunk) this.newChunk();
    if (!this.node || kind !== this.kind) {
      this.node = document.createTextNode('');
      this.kind = kind;
      this.chunk?.appendChild(this.wrap(kind, this.node));
    }
    this.node.appendData(text);
    this.size += text.length;
    this.lineEnded = text.endsWith('\n');
  }

  private newChunk(): void {
    this.chunk = document.createElement('div');
    this.chunk.className = 'chunk';
    this.el.appendChild(this.chunk);
    this.node = null;
    this.size = 0;
  }
}
