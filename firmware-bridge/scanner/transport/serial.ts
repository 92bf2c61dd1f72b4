import type { Duplex } from 'node:stream';
import type { LineLink, LinkOpener } from './line-link.js';

/** The part of a serialport 13 SerialPortStream this transport uses (SerialPort, SerialPortMock). */
export type SerialPortLike = Duplex & {
  open(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  readonly isOpen: boolean;
};

export interface SerialLinkOptions {
  path: string;
  baudRate: number;
  /** Builds the port; default: serialport's SerialPort with the platform binding. Tests pass SerialPortMock. */
  createPort?: (o: { path: string; baudRate: number; autoOpen: false }) => SerialPortLike;
}

/** Line stream over a serial port (RS-422/RS-485 adapters, USB CDC, a pty in tests). */
export class SerialLinkOpener implements LinkOpener {
  readonly describe: string;
  readonly #options: SerialLinkOptions;

  constructor(opts: SerialLinkOptions) {
    this.#options = opts;
    this.describe = `serial ${opts.path} @ ${opts.baudRate} baud`;
  }

  async open(): Promise<LineLink> {
    const { path, baudRate } = this.#options;
    // serialport's native binding is loaded on first use, so TCP-only lanes never need it.
    const create: NonNullable<SerialLinkOptions['createPort']> =
      this.#options.createPort ??
      (await import('serialport').then(
        (m) => (o: { path: string; baudRate: number; autoOpen: false }) =>
          new m.SerialPort(o) as unknown as SerialPortLike,
      ));
    return new Promise((resolve, reject) => {
      let port: SerialPortLike;
      try {
        port = create({ path, baudRate, autoOpen: false });
      } catch (err) {
        reject(new Error(`cannot open serial port ${path}: ${(err as Error).message}`));
        return;
      }
      port.open((err) => {
        if (err)
          return reject(
            new Error(
              `cannot open serial port ${path}: ${err.message}${/ENOENT|No such file/.test(err.message) ? ' (is the scanner plugged in and the path right?)' : ''}`,
            ),
          );
        resolve(serialLink(port, path));
      });
    });
  }
}

function serialLink(port: SerialPortLike, path: string): LineLink {
  let closeReason: string | null = null;
  let done = false;
  let resolveClosed!: (reason: string) => void;
  const closed = new Promise<string>((r) => (resolveClosed = r));
  const finish = (reason: string) => {
    if (done) return;
    done = true;
    resolveClosed(closeReason ?? reason);
  };
  // serialport emits 'close' with a DisconnectedError (err.disconnected) when the device goes away.
  port.once('close', (err?: Error & { disconnected?: boolean }) => {
    finish(err?.disconnected ? `serial port ${path} disconnected: ${err.message}` : `serial port ${path} closed`);
  });
  // Any other error (a failed read or close of a vanished device) also ends the link: a port
  // in an unknown state is closed and reopened, never trusted.
  port.on('error', (err: Error) => {
    if (done) return;
    finish(`serial port ${path} failed: ${err.message}`);
    try {
      if (port.isOpen) port.close(() => {});
      else port.destroy();
    } catch {
      // already gone
    }
  });
  return {
    input: port,
    closed,
    write: (bytes) =>
      new Promise((resolve, reject) => {
        if (done || !port.isOpen) return reject(new Error(`cannot write to serial port ${path}: it is closed`));
        port.write(bytes, (err?: Error | null) =>
          err ? reject(new Error(`cannot write to serial port ${path}: ${err.message}`)) : resolve(),
        );
      }),
    async close(reason) {
      closeReason ??= reason;
      try {
        if (port.isOpen) port.close(() => {});
        else port.destroy();
      } catch {
        // already gone
      }
      // A port whose device already vanished may never say 'close': do not hang a shutdown on it.
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
      finish(reason);
    },
  };
}
