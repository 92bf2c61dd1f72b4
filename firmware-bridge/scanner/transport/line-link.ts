import type { Readable } from 'node:stream';

/**
 * An open byte link to a scanner (serial port, TCP connection). Shaped like serialport's
 * binding seam: an opener that opens, a link that does I/O; every call returns a Promise.
 * Losing the link (unplugged cable, reset connection) and closing it on purpose both end
 * `input` and resolve `closed` with a reason; only the reason tells them apart.
 */
export interface LineLink {
  /** Bytes from the scanner; ends when the link is gone. */
  readonly input: Readable;
  write(bytes: Buffer): Promise<void>;
  /** Resolves once the link is closed, by either side, with a sentence saying why. */
  readonly closed: Promise<string>;
  /** Closes the link; resolves when it is closed. Never rejects. */
  close(reason: string): Promise<void>;
}

export interface LinkOpener {
  /** e.g. "tcp 10.0.0.5:4001" or "serial /dev/ttyUSB0 @ 3000000 baud" */
  readonly describe: string;
  /** Opens the link or rejects with an error that says what failed; `signal` cancels an attempt in progress. */
  open(signal?: AbortSignal): Promise<LineLink>;
}
