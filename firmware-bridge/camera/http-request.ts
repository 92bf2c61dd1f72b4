import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CameraAuth } from './camera-auth.js';
import { safeUrl } from './source.js';

export interface CameraRequestOptions {
  url: string;
  /** Credentials; kept across requests of one source so a Digest nonce is reused. */
  auth: CameraAuth | null;
  /** Time allowed until the response headers arrive (per attempt). */
  timeoutMs: number;
}

/** Credentials for a camera URL: from the config, else from the URL's user info; null if none. */
export function cameraAuthFor(url: string, username?: string, password?: string): CameraAuth | null {
  const u = new URL(url);
  const user = username ?? decodeURIComponent(u.username);
  const pass = password ?? decodeURIComponent(u.password);
  return user ? new CameraAuth(user, pass) : null;
}

export interface CameraGet {
  /** The 200 response, once its headers are in; rejects with a message naming the camera URL. */
  response: Promise<IncomingMessage>;
  /** Aborts the request (and the stream once it flows). */
  abort(): void;
}

/**
 * A GET to a camera. Without credentials asked for, none are sent; on a 401 the request is made
 * again once with Basic or Digest, as the camera's challenge says.
 */
export function cameraGet(o: CameraRequestOptions): CameraGet {
  const u = new URL(o.url);
  u.username = '';
  u.password = '';
  const where = safeUrl(o.url);
  const uri = `${u.pathname}${u.search}`;
  let current: ClientRequest | null = null;
  let aborted = false;

  const attempt = (retry: boolean): Promise<IncomingMessage> =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'multipart/x-mixed-replace, image/jpeg, */*' };
      const authorization = o.auth?.header('GET', uri);
      if (authorization) headers.authorization = authorization;
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'GET', headers });
      current = req;
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
      req.once('response', (res) => {
        clearTimeout(timer);
        if (res.statusCode === 401 && o.auth && retry && o.auth.challenged(res.headersDistinct['www-authenticate'])) {
          res.resume();
          if (aborted) return reject(new Error(`request to ${where} aborted`));
          attempt(false).then(resolve, reject);
          return;
        }
        if (res.statusCode === 401 || res.statusCode === 403) {
          res.resume();
          const why = !o.auth
            ? 'it wants credentials: set username and password of the camera'
            : o.auth.scheme === 'none'
              ? `its challenge (${String(res.headers['www-authenticate'] ?? 'none')}) is neither Basic nor Digest`
              : 'check username and password of the camera';
          reject(new Error(`${where} refused access (HTTP ${res.statusCode}): ${why}`));
          return;
        }
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`${where} answered HTTP ${res.statusCode}: check the camera URL`));
          return;
        }
        resolve(res);
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot reach ${where}: ${err.message}`));
      });
      req.end();
    });

  return {
    response: attempt(true),
    abort() {
      aborted = true;
      current?.destroy();
    },
  };
}
