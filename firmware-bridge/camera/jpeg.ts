import sharp from 'sharp';

/** Why a frame was not accepted as a JPEG picture. Null when it looks whole. */
export function jpegProblem(buf: Buffer): string | null {
  if (buf.length < 4) return `${buf.length} bytes is too short for a JPEG`;
  if (buf[0] !== 0xff || buf[1] !== 0xd8)
    return `does not start with the JPEG SOI marker (starts ${buf.subarray(0, 2).toString('hex')})`;
  // Some cameras pad a part with CR/LF or zero bytes after the EOI marker.
  let end = buf.length;
  while (end > 2 && (buf[end - 1] === 0x0d || buf[end - 1] === 0x0a || buf[end - 1] === 0x00)) end--;
  if (buf[end - 2] !== 0xff || buf[end - 1] !== 0xd9) return 'does not end with the JPEG EOI marker (truncated)';
  return null;
}

/** Width and height from the first SOF marker, without decoding; null if there is none. */
export function jpegSize(buf: Buffer): { width: number; height: number } | null {
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return null;
    const marker = buf[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    const len = buf.readUInt16BE(i + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    if (marker === 0xda) return null;
    i += 2 + len;
  }
  return null;
}

export interface DecodedFrame {
  width: number;
  height: number;
  channels: number;
  data: Buffer;
}

/** Decodes a JPEG to raw pixels. Only for consumers that need pixels; ingest keeps the bytes. */
export async function decodeJpeg(jpeg: Buffer, opts: { maxWidth?: number } = {}): Promise<DecodedFrame> {
  let img = sharp(jpeg, { failOn: 'error' });
  if (opts.maxWidth) img = img.resize({ width: opts.maxWidth, withoutEnlargement: true });
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}
