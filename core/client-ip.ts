import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** How to find a request's client address (http.trustedProxies, http.clientIpHeader). */
export interface ClientIpOptions {
  /** Addresses of the reverse proxies in front of this server; their header is believed. */
  trustedProxies: readonly string[];
  /** The header those proxies set, e.g. x-forwarded-for or x-real-ip. */
  header: string;
}

/** `::ffff:10.0.0.1` -> `10.0.0.1`; lower case. */
export function normaliseIp(ip: string): string {
  const v = ip.trim().toLowerCase();
  return v.startsWith('::ffff:') && isIP(v.slice(7)) === 4 ? v.slice(7) : v;
}

/**
 * The client address of a request: the socket's peer, unless the peer is a trusted proxy, in
 * which case the proxy's header is read from the right, skipping trusted proxies, and its first
 * other address is the client. A header from anyone else is ignored (it is the sender's say-so).
 */
export function clientIp(req: IncomingMessage, o: ClientIpOptions): string | null {
  const peer = req.socket.remoteAddress ? normaliseIp(req.socket.remoteAddress) : null;
  if (!peer || o.trustedProxies.length === 0) return peer;
  const trusted = new Set(o.trustedProxies.map(normaliseIp));
  if (!trusted.has(peer)) return peer;
  const raw = req.headers[o.header.toLowerCase()];
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  if (!value) return peer;
  const hops = value.split(',').map((h) => normaliseIp(h.replace(/^\[|\](:\d+)?$/g, '')));
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i]!;
    if (isIP(h) === 0) return peer; // malformed: the proxy chain cannot be trusted past here
    if (!trusted.has(h)) return h;
  }
  return peer;
}
