import { GLYPH_H, GLYPH_W, glyph, glyphPixel } from './font.js';

export type Rgb = [number, number, number];

export function parseColor(hex: string): Rgb {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m?.[1]) throw new Error(`not a #rrggbb colour: ${hex}`);
  const n = Number.parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** An RGB canvas, row by row. */
export class Canvas {
  readonly rgb: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = new Uint8Array(width * height * 3);
  }

  set(x: number, y: number, c: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.rgb.set(c, (y * this.width + x) * 3);
  }

  /** Paints rows [y0, y1) with the left-to-right gradient from `a` to `b`. */
  gradientRows(y0: number, y1: number, a: Rgb, b: Rgb): void {
    const w = this.width;
    for (let x = 0; x < w; x++) {
      const t = w === 1 ? 0 : x / (w - 1);
      const c: Rgb = [0, 1, 2].map((i) =>
        Math.round((a[i] as number) + ((b[i] as number) - (a[i] as number)) * t),
      ) as Rgb;
      for (let y = y0; y < y1; y++) this.set(x, y, c);
    }
  }

  /** Draws text centred, wrapped and scaled to fit the middle of the image, with a dark shadow. */
  text(text: string, color: Rgb): { scale: number; lines: string[] } {
    const layout = layoutText(text, this.width, this.height);
    const { scale, lines } = layout;
    const lineH = (GLYPH_H + 2) * scale;
    const top = Math.floor((this.height - lines.length * lineH) / 2);
    const shadow: Rgb = [0, 0, 0];
    for (const pass of [shadow, color]) {
      const off = pass === shadow ? Math.max(1, Math.floor(scale / 2)) : 0;
      lines.forEach((line, li) => {
        const left = Math.floor((this.width - line.length * (GLYPH_W + 1) * scale) / 2);
        [...line].forEach((ch, ci) => {
          const rows = glyph(ch);
          for (let gy = 0; gy < GLYPH_H; gy++) {
            for (let gx = 0; gx < GLYPH_W; gx++) {
              if (!glyphPixel(rows, gx, gy)) continue;
              const x0 = left + ci * (GLYPH_W + 1) * scale + gx * scale + off;
              const y0 = top + li * lineH + gy * scale + off;
              for (let dy = 0; dy < scale; dy++)
                for (let dx = 0; dx < scale; dx++) this.set(x0 + dx, y0 + dy, pass);
            }
          }
        });
      });
    }
    return layout;
  }
}

function wrap(text: string, cols: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    for (let w = word; w.length; w = w.slice(cols)) {
      const piece = w.slice(0, cols);
      if (!line) line = piece;
      else if (line.length + 1 + piece.length <= cols) line += ` ${piece}`;
      else {
        lines.push(line);
        line = piece;
      }
    }
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

/** The largest scale at which the wrapped text fits in 90% of the width and 80% of the height. */
function layoutText(text: string, width: number, height: number): { scale: number; lines: string[] } {
  for (let scale = 12; scale >= 1; scale--) {
    const cols = Math.floor((width * 0.9) / ((GLYPH_W + 1) * scale));
    if (cols < 1) continue;
    const lines = wrap(text, cols);
    if (lines.length * (GLYPH_H + 2) * scale <= height * 0.8) return { scale, lines };
  }
  const cols = Math.max(1, Math.floor((width * 0.9) / (GLYPH_W + 1)));
  const rows = Math.max(1, Math.floor((height * 0.8) / (GLYPH_H + 2)));
  return { scale: 1, lines: wrap(text, cols).slice(0, rows) };
}
