import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../core/event-bus.js';
import type { LaneEvents } from '../../../core/events.js';
import { LaneHealth } from '../../../pipeline/lane-health.js';
import { createLogger } from '../../../core/logger.js';
import { redactText, redactUrl } from '../../../core/redact.js';

describe('redaction of credentials', () => {
  it('removes the user information of every URL in a text, and the secrets given', () => {
    expect(redactUrl('rtsp://admin:pa55word@10.0.0.9:554/stream1')).toBe('rtsp://***@10.0.0.9:554/stream1');
    expect(redactUrl('mqtts://lane:s3cr3t@broker.example:8883')).toBe('mqtts://***@broker.example:8883');
    expect(redactUrl('http://cam.local/snap.jpg')).toBe('http://cam.local/snap.jpg');
    // ffmpeg's last lines for an RTSP camera that refused the connection
    const stderr =
      '[tcp @ 0x55d] Connection to tcp://10.0.0.9:554?timeout=0 failed: Connection refused\nrtsp://admin:p@ss@10.0.0.9:554/stream1: Connection refused';
    expect(redactText(stderr)).toBe(
      '[tcp @ 0x55d] Connection to tcp://10.0.0.9:554?timeout=0 failed: Connection refused\nrtsp://***@10.0.0.9:554/stream1: Connection refused',
    );
    expect(redactText('auth failed for admin with p@ss!word and p%40ss!word', ['p@ss!word'])).toBe(
      'auth failed for admin with *** and ***',
    );
    expect(redactText('mail user@example.org at http://a/b?c=d@e')).toBe('mail user@example.org at http://a/b?c=d@e');
  });

  it('keeps credentials out of a device detail, however the status was built', () => {
    const bus = new EventBus<LaneEvents>(createLogger({ level: 'silent' }));
    const health = new LaneHealth('lane-1');
    health.attach(bus);
    bus.emit('device.status', {
      device: 'camera.gate',
      state: 'fault',
      detail: 'ffmpeg reading rtsp://***@10.0.0.9/x exited: rtsp://admin:pa55word@10.0.0.9/x: 401 Unauthorized',
      since: new Date().toISOString(),
      info: { url: 'rtsp://admin:pa55word@10.0.0.9/x' },
    });
    expect(JSON.stringify(health.snapshot())).not.toContain('pa55word');
    expect(health.get('camera.gate')?.detail).toBe(
      'ffmpeg reading rtsp://***@10.0.0.9/x exited: rtsp://***@10.0.0.9/x: 401 Unauthorized',
    );
  });

  it('keeps credentials out of log lines: message, fields and errors', () => {
    let out = '';
    const log = createLogger({
      destination: new Writable({
        write: (c, _e, cb) => {
          out += c.toString();
          cb();
        },
      }),
    });
    log.warn(
      { url: 'mqtt://lane:hunter22@broker:1883', nested: { detail: 'rtsp://a:hunter22@cam/x' } },
      'connecting to rtsp://a:hunter22@cam/x',
    );
    log.error({ err: new Error('ffmpeg: rtsp://a:hunter22@cam/x: 401') }, 'camera failed');
    log.info({ password: 'hunter22' }, 'secret key');
    expect(out).not.toContain('hunter22');
    expect(out).toContain('connecting to rtsp://***@cam/x');
    expect(out).toContain('"msg":"camera failed"');
    expect(out).toContain('ffmpeg: rtsp://***@cam/x: 401');
  });
});
