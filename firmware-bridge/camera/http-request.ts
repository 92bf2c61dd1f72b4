import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { safeUrl } from './source.js';

export interface CameraRequestOptions {
  url: string;
  username?: string;
  password?: string;
  /** Time allowed until the response headers arrive. */
  timeoutMs: number;
}

/**
 * A GET to a camera with Basic credentials (from the config, or from the URL). Resolves with
 * the response once its headers are in; rejects with a message naming the camera URL.
 * Digest authentication is not supported: configure the camera for Basic over a trusted network.
 */
export function cameraGet(o: CameraRequestOptions): { response: Promise<IncomingMessage>; request: ClientRequest } {
  const u = new URL(o.url);
  const user = o.username ?? decodeURIComponent(u.username);
  const pass = o.password ?? decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const headers: Record<string, string> = { accept: 'multipart/x-mixed-replace, image/jpeg, */*' };
  if (user) headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const fn = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const req = fn(u, { method: 'GET', headers });
  const where = safeUrl(o.url);
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${o.timeoutMs} ms`));
    }, o.timeoutMs);
    req.once('response', (res) => {
      clearTimeout(timer);
      if (res.statusCode === 401 || res.statusCode === 403) {
        res.resume();
        reject(new Error(`${where} refused the credentials (HTTP ${res.statusCode}): check username/password of the camera`));
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
  });
  req.end();
  return { response, request: req };
}
