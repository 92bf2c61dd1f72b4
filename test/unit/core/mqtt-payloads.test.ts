import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mqttJsonSchemas, SCHEMA_DIR, schemaFileText } from '../../../outputs/mqtt/json-schemas.js';
import {
  alertPayload,
  alertPayloadSchema,
  eventPayload,
  eventPayloadSchema,
  evidenceRefs,
  scanPayload,
  scanPayloadSchema,
  statusPayload,
  statusPayloadSchema,
} from '../../../core/mqtt-payloads.js';
import { centralFilters, LaneTopics, parseTopic } from '../../../core/mqtt-topics.js';
import { validateConfig } from '../../../config/load.js';
import type { ScanResult } from '../../../core/domain.js';
import { alertFor } from '../../../pipeline/lane-pipeline.js';
import { LaneHealth } from '../../../pipeline/lane-health.js';
import { deviceStatus } from '../../../core/health.js';
import { scanResult } from '../../helpers/builders.js';

const result: ScanResult = scanResult({
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:00:05.000Z',
  decidedAt: '2026-01-01T00:00:05.300Z',
  verdict: 'person',
  score: 0.91,
  regions: [{ x: 1, y: 2, w: 3, h: 4, score: 0.9 }],
  model: { name: 'person-fcn', version: '1.0' },
  vehicle: { plate: 'AB 123' },
  lines: 1200,
  channels: 256,
  missingLines: 3,
  evidence: [{ name: 'scan.jpg', kind: 'scan', contentType: 'image/jpeg', url: '/evidence/S-1/scan.jpg' }],
});

describe('MQTT payloads', () => {
  it('docs/schemas/mqtt/*.json are the schemas derived from the code (run outputs/mqtt/json-schemas.ts after a change)', () => {
    for (const [name, schema] of Object.entries(mqttJsonSchemas())) {
      expect(readFileSync(join(SCHEMA_DIR, `${name}.json`), 'utf8'), `${name}.json`).toBe(schemaFileText(schema));
    }
  });

  it('builds scan, alert, event and status payloads that pass their schemas, each with schemaVersion', () => {
    const scan = scanPayloadSchema.parse(scanPayload(result, 'https://lane.example/'));
    expect(scan).toMatchObject({ schemaVersion: 1, messageId: 'S-1', verdict: 'person', score: 0.91 });
    const aborted = scanPayloadSchema.parse(
      scanPayload(
        {
          ...result,
          outcome: 'aborted',
          abortReason: 'timeout',
          abortDetail: 'no line for 5 s',
          verdict: 'unavailable',
          unavailableReason: 'aborted',
          score: null,
          model: null,
        },
        null,
      ),
    );
    expect(aborted).toMatchObject({ abortReason: 'timeout', verdict: 'unavailable', score: null });
    // The threshold the verdict was decided at travels with a scored result, and only with one.
    expect(scanPayloadSchema.parse(scanPayload({ ...result, threshold: 0.4855 }, null)).threshold).toBe(0.4855);
    expect('threshold' in aborted).toBe(false);
    expect(() => scanPayloadSchema.parse({ ...scan, threshold: 1.5 })).toThrow();
    // The line pitch travels where the lines were read at a pitch of their own, and only then.
    expect(scanPayloadSchema.parse(scanPayload({ ...result, lineMm: 10 }, null)).lineMm).toBe(10);
    expect('lineMm' in scan).toBe(false);
    const raised = alertFor({ ...result, scannerScanId: 'SCANNER-7' })!;
    const alert = alertPayloadSchema.parse(alertPayload(raised, null));
    expect(alert).toMatchObject({
      schemaVersion: 1,
      messageId: raised.alertId,
      alertId: raised.alertId,
      scanId: 'S-1',
      scannerScanId: 'SCANNER-7',
      kind: 'person-suspected',
    });
    expect(scanPayloadSchema.parse(scanPayload({ ...result, scannerScanId: 'SCANNER-7' }, null))).toMatchObject({
      scanId: 'S-1',
      scannerScanId: 'SCANNER-7',
    });
    const event = eventPayloadSchema.parse(
      eventPayload({
        eventId: 'e1',
        alertId: raised.alertId,
        laneId: 'lane-1',
        siteId: 'site-a',
        at: result.decidedAt,
        type: 'cleared-after-search',
        operator: 'ops',
        origin: 'console',
      }),
    );
    expect(event).toMatchObject({ messageId: 'e1', type: 'cleared-after-search' });
    const health = new LaneHealth('lane-1');
    health.update(deviceStatus('model', 'ok', 'person-fcn 1.0'));
    health.update(deviceStatus('mqtt', 'ok', undefined, { outboxDepth: 0 }));
    const status = statusPayloadSchema.parse(
      JSON.parse(
        JSON.stringify(
          statusPayload({
            siteId: 'site-a',
            health: health.snapshot(),
            outbox: { depth: 0, alerts: 0, scans: 0, events: 0, evicted: 0 },
            edgeVersion: '0.1.0',
            modelVersion: 'person-fcn 1.0',
          }),
        ),
      ),
    );
    expect(status).toMatchObject({
      schemaVersion: 1,
      overall: 'ok',
      versions: { edge: '0.1.0', model: 'person-fcn 1.0' },
    });
    expect(() => scanPayloadSchema.parse({ ...scan, schemaVersion: 2 })).toThrow();
  });

  it('makes evidence URLs absolute with the base URL, keeps the path, and passes absolute URLs through', () => {
    const refs = [
      { name: 'scan.jpg', kind: 'scan' as const, contentType: 'image/jpeg', url: '/evidence/S-1/scan.jpg' },
      {
        name: 'front.jpg',
        kind: 'camera' as const,
        contentType: 'image/jpeg',
        url: 'http://cam-store.example/evidence/S-1/front.jpg',
      },
    ];
    expect(evidenceRefs(refs, 'https://lane3.example:8080/')).toEqual([
      {
        name: 'scan.jpg',
        kind: 'scan',
        contentType: 'image/jpeg',
        path: '/evidence/S-1/scan.jpg',
        url: 'https://lane3.example:8080/evidence/S-1/scan.jpg',
      },
      {
        name: 'front.jpg',
        kind: 'camera',
        contentType: 'image/jpeg',
        path: '/evidence/S-1/front.jpg',
        url: 'http://cam-store.example/evidence/S-1/front.jpg',
      },
    ]);
    expect(evidenceRefs(refs.slice(0, 1), null)).toEqual([
      { name: 'scan.jpg', kind: 'scan', contentType: 'image/jpeg', path: '/evidence/S-1/scan.jpg' },
    ]);
  });

  it('puts the signed link in url (absolute with a base, else the signed path) and keeps the plain path', () => {
    const sign = (p: string) => `${p}?exp=1900000000&sig=${'s'.repeat(43)}`;
    const refs = [
      { name: 'scan.jpg', kind: 'scan' as const, contentType: 'image/jpeg', url: '/evidence/S-1/scan.jpg' },
      {
        name: 'front.jpg',
        kind: 'camera' as const,
        contentType: 'image/jpeg',
        url: 'http://cam-store.example/evidence/S-1/front.jpg',
      },
    ];
    const q = `?exp=1900000000&sig=${'s'.repeat(43)}`;
    expect(evidenceRefs(refs, 'https://lane3.example:8080/', sign)).toEqual([
      {
        name: 'scan.jpg',
        kind: 'scan',
        contentType: 'image/jpeg',
        path: '/evidence/S-1/scan.jpg',
        url: `https://lane3.example:8080/evidence/S-1/scan.jpg${q}`,
      },
      {
        name: 'front.jpg',
        kind: 'camera',
        contentType: 'image/jpeg',
        path: '/evidence/S-1/front.jpg',
        url: `http://cam-store.example/evidence/S-1/front.jpg${q}`,
      },
    ]);
    expect(evidenceRefs(refs.slice(0, 1), null, sign)).toEqual([
      {
        name: 'scan.jpg',
        kind: 'scan',
        contentType: 'image/jpeg',
        path: '/evidence/S-1/scan.jpg',
        url: `/evidence/S-1/scan.jpg${q}`,
      },
    ]);
  });
});

describe('MQTT topics', () => {
  it('builds and parses the lane topics under a configurable prefix', () => {
    const t = new LaneTopics('ops/checkpoint', 'site-a', 'lane-1');
    expect([t.availability, t.status, t.scan, t.alert, t.event, t.commandFilter, t.response('ack')]).toEqual([
      'ops/checkpoint/site-a/lane-1/availability',
      'ops/checkpoint/site-a/lane-1/status',
      'ops/checkpoint/site-a/lane-1/scan',
      'ops/checkpoint/site-a/lane-1/alert',
      'ops/checkpoint/site-a/lane-1/event',
      'ops/checkpoint/site-a/lane-1/cmd/+',
      'ops/checkpoint/site-a/lane-1/cmd/ack/response',
    ]);
    expect(parseTopic('ops/checkpoint', t.alert)).toEqual({ kind: 'alert', siteId: 'site-a', laneId: 'lane-1' });
    expect(parseTopic('ops/checkpoint', t.command('ack'))).toEqual({
      kind: 'cmd',
      siteId: 'site-a',
      laneId: 'lane-1',
      command: 'ack',
    });
    expect(parseTopic('ops/checkpoint', t.response('status'))).toEqual({
      kind: 'response',
      siteId: 'site-a',
      laneId: 'lane-1',
      command: 'status',
    });
    expect(parseTopic('ops/checkpoint', 'ops/checkpoint/site-a/lane-1/other')).toBeNull();
    expect(parseTopic('checkpoint', t.alert)).toBeNull();
    expect(centralFilters('checkpoint')).toContain('checkpoint/+/+/cmd/+/response');
  });

  it('refuses a topic prefix that would break the contract (wildcards, $, empty levels)', () => {
    const cfg = (topicPrefix: string) => ({
      site: { id: 's' },
      mqtt: { url: 'mqtt://h', topicPrefix },
      lanes: [{ id: 'l', scanner: { transport: { type: 'tcp', host: 'h', port: 1 } } }],
    });
    expect(validateConfig(cfg('agency/checkpoint'), 'x.yaml', {}).mqtt?.topicPrefix).toBe('agency/checkpoint');
    for (const bad of ['a/+/b', '#', '$SYS', '/x', 'x/', 'a//b'])
      expect(() => validateConfig(cfg(bad), 'x.yaml', {}), bad).toThrow(
        /mqtt\.topicPrefix: expected topic levels without wildcards/,
      );
  });

  it('refuses a reconnect backoff whose first delay exceeds its maximum', () => {
    const cfg = {
      site: { id: 's' },
      mqtt: { url: 'mqtt://h', reconnect: { initialMs: 5000, maxMs: 100 } },
      lanes: [{ id: 'l', scanner: { transport: { type: 'tcp', host: 'h', port: 1 } } }],
    };
    expect(() => validateConfig(cfg, 'x.yaml', {})).toThrow(
      'mqtt.reconnect: reconnect.initialMs must not exceed reconnect.maxMs, got 5000 and 100',
    );
  });
});
