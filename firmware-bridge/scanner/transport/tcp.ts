import { connect, type Socket } from 'node:net';
import type { LineLink, LinkOpener } from './line-link.js';

export interface TcpLinkOptions {
  host: string;
  port: number;
  /** Give up a connection attempt after this long. */
  connectTimeoutMs?: number;
}

/** Line stream over TCP: the scanner is the server, we connect to it. */
export class TcpLinkOpener implements LinkOpener {
  readonly describe: string;
  readonly #options: TcpLinkOptions;

  constructor(opts: TcpLinkOptions) {
    this.#options = opts;
    this.describe = `tcp ${opts.host}:${opts.port}`;
  }

  open(signal?: AbortSignal): Promise<LineLink> {
    const { host, port } = this.#options;
    const timeoutMs = this.#options.connectTimeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const fail = (err: Error) => {
        signal?.removeEventListener('abort', cancel);
        socket.destroy();
        reject(new Error(`cannot connect to scanner at ${host}:${port}: ${err.message}`));
      };
      const cancel = () => fail(new Error('connection attempt cancelled'));
      if (signal?.aborted) return cancel();
      signal?.addEventListener('abort', cancel, { once: true });
      socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
      socket.once('error', fail);
      socket.once('connect', () => {
        signal?.removeEventListener('abort', cancel);
        socket.off('error', fail);
        socket.setTimeout(0);
        socket.setNoDelay(true);
        // Keepalive finds a dead peer that never sends a FIN (cable cut, powered-off scanner).
        socket.setKeepAlive(true, 5000);
        resolve(tcpLink(socket, `${host}:${port}`));
      });
    });
  }
}

function tcpLink(socket: Socket, where: string): LineLink {
  let lastError: Error | null = null;
  let closeReason: string | null = null;
  socket.on('error', (err) => {
    lastError = err;
  });
  const closed = new Promise<string>((resolve) => {
    socket.once('close', () => {
      resolve(
        closeReason ??
          (lastError
            ? `connection to ${where} failed: ${lastError.message}`
            : `connection closed by the scanner at ${where}`),
      );
    });
  });
  return {
    input: socket,
    closed,
    write: (bytes) =>
      new Promise((resolve, reject) => {
        if (socket.destroyed) return reject(new Error(`cannot write to scanner at ${where}: connection closed`));
        socket.write(bytes, (err) =>
          err ? reject(new Error(`cannot write to scanner at ${where}: ${err.message}`)) : resolve(),
        );
      }),
    async close(reason) {
      closeReason ??= reason;
      socket.destroy();
      await closed;
    },
  };
}
