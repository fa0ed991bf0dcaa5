import { inflateSync } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  /** RGB bytes, row by row. */
  rgb: Uint8Array;
  pixel(x: number, y: number): [number, number, number];
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes an 8-bit truecolour (RGB) non-interlaced PNG: signature, chunks and CRC-free checks, all filters. */
export function decodePng(buf: Buffer): DecodedPng {
  const sig = buf.subarray(0, 8).toString('hex');
  if (sig !== '89504e470d0a1a0a') throw new Error(`not a PNG (signature ${sig})`);
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 2 || data[12] !== 0) throw new Error('only 8-bit RGB, not interlaced');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  const rgb = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x] as number;
      const a = x >= 3 ? (rgb[y * stride + x - 3] as number) : 0;
      const b = y > 0 ? (rgb[(y - 1) * stride + x] as number) : 0;
      const c = x >= 3 && y > 0 ? (rgb[(y - 1) * stride + x - 3] as number) : 0;
      const pred =
        filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
      rgb[y * stride + x] = (v + pred) & 0xff;
    }
  }
  return {
    width,
    height,
    rgb,
    pixel: (x, y) => {
      const i = (y * width + x) * 3;
      return [rgb[i] as number, rgb[i + 1] as number, rgb[i + 2] as number];
    },
  };
}
