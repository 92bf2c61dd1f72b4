import { describe, expect, it } from 'vitest';
import { anprAccess, isLoopback } from '../../../../firmware-bridge/camera/anpr-http.js';

const req = (remoteAddress: string | undefined, authorization?: string) => ({
  headers: authorization ? { authorization } : {},
  socket: { remoteAddress },
});
const TOKEN = 'a-long-shared-anpr-secret';

describe('ANPR read access', () => {
  it('knows loopback addresses, IPv4, IPv6 and IPv4-mapped', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a), a).toBe(true);
    for (const a of [
      '10.0.0.5',
      '192.168.1.20',
      '::ffff:10.0.0.5',
      'fe80::1',
      '1127.0.0.1',
      '::ffff:128.0.0.1',
      '',
      undefined,
    ])
      expect(isLoopback(a), String(a)).toBe(false);
  });

  it('without a token, accepts loopback only and says how to allow the camera', () => {
    expect(anprAccess(req('127.0.0.1'), null, 'l1')).toEqual({ ok: true });
    expect(anprAccess(req('::1', 'Bearer whatever'), null, 'l1')).toEqual({ ok: true });
    const remote = anprAccess(req('10.0.0.5'), null, 'l1');
    expect(remote).toMatchObject({ ok: false, status: 403 });
    expect(!remote.ok && remote.reason).toMatch(/lane l1 has no anpr.token.*10\.0\.0\.5.*set lanes\[\]\.anpr\.token/);
  });

  it('with a token, needs it as a Bearer token from anywhere, loopback included', () => {
    expect(anprAccess(req('10.0.0.5', `Bearer ${TOKEN}`), TOKEN, 'l1')).toEqual({ ok: true });
    expect(anprAccess(req('10.0.0.5', `bearer  ${TOKEN}`), TOKEN, 'l1')).toEqual({ ok: true });
    expect(anprAccess(req('127.0.0.1'), TOKEN, 'l1')).toMatchObject({ ok: false, status: 401 });
    expect(anprAccess(req('10.0.0.5', TOKEN), TOKEN, 'l1')).toMatchObject({ ok: false, status: 401 });
    expect(anprAccess(req('10.0.0.5', `Basic ${TOKEN}`), TOKEN, 'l1')).toMatchObject({ ok: false, status: 401 });
    expect(anprAccess(req('10.0.0.5', `Bearer ${TOKEN.slice(0, -1)}`), TOKEN, 'l1')).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(anprAccess(req('10.0.0.5', `Bearer ${TOKEN}x`), TOKEN, 'l1')).toMatchObject({ ok: false, status: 403 });
    const wrong = anprAccess(req('10.0.0.5', 'Bearer nope'), TOKEN, 'l1');
    expect(!wrong.ok && wrong.reason).not.toContain(TOKEN);
  });
});
