import { describe, expect, it } from 'vitest';
import {
  CameraAuth,
  digestAuthorization,
  parseDigestChallenge,
} from '../../../../firmware-bridge/camera/camera-auth.js';

describe('camera credentials', () => {
  it('answers the RFC 2617 Digest example exactly', () => {
    const challenge = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    )!;
    expect(challenge).toEqual({
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      qop: 'auth',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
      algorithm: 'MD5',
    });
    const h = digestAuthorization({
      user: 'Mufasa',
      pass: 'Circle Of Life',
      method: 'GET',
      uri: '/dir/index.html',
      challenge,
      nc: 1,
      cnonce: '0a4f113b',
    });
    expect(h).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(h).toContain('nc=00000001');
    expect(h).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  });

  it('answers the RFC 7616 SHA-256 example exactly', () => {
    const challenge = parseDigestChallenge(
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    )!;
    const h = digestAuthorization({
      user: 'Mufasa',
      pass: 'Circle of Life',
      method: 'GET',
      uri: '/dir/index.html',
      challenge,
      nc: 1,
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    });
    expect(h).toContain('response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"');
  });

  it('sends nothing before a challenge, then the scheme the camera asked for', () => {
    const a = new CameraAuth('admin', 'secret');
    expect(a.header('GET', '/x')).toBeUndefined();
    expect(a.challenged(['Basic realm="cam"'])).toBe(true);
    expect(a.header('GET', '/x')).toBe(`Basic ${Buffer.from('admin:secret').toString('base64')}`);
    expect(a.challenged(['Basic realm="cam"', 'Digest realm="cam", nonce="n1", qop="auth"'])).toBe(true);
    expect(a.scheme).toBe('digest');
    expect(a.header('GET', '/x')).toMatch(/nc=00000001/);
    expect(a.header('GET', '/x')).toMatch(/nc=00000002/);
    expect(a.challenged(['Negotiate abc'])).toBe(false);
    expect(parseDigestChallenge('Digest realm="r", nonce="n", algorithm=SHA-512-256')).toBeNull();
  });
});
