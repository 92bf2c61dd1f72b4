import { describe, expect, it } from 'vitest';
import { parseCentralConfig } from '../../../central/config.js';

const nats = { kind: 'nats', servers: ['nats://127.0.0.1:4222'], mqttUrl: 'mqtt://127.0.0.1:1883' };

describe('central config', () => {
  it('fills the defaults: embedded store, 20-minute work limit', () => {
    const c = parseCentralConfig({ ingest: { kind: 'mqtt', url: 'mqtt://127.0.0.1:1883' } });
    expect(c.store).toEqual({ kind: 'pglite', memory: false });
    expect(c.review).toEqual({ escalateAfterS: 120, workLimitMinutes: 20, breakMinutes: 10 });
    expect(c.http.port).toBe(8090);
  });

  it('refuses unknown keys and names where', () => {
    expect(() => parseCentralConfig({ ingest: { kind: 'mqtt', url: 'mqtt://x', qos: 2 } })).toThrow(
      /ingest: Unrecognized key: "qos"|ingest.*qos/,
    );
  });

  it('refuses site and lane ids with dots or spaces (nats-server cannot carry them in topics)', () => {
    let msg = '';
    try {
      parseCentralConfig({ ingest: nats, sites: [{ id: 'north.gate', lanes: [{ id: 'lane 1' }] }] });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/sites\.0\.id: expected an identifier/);
    expect(msg).toMatch(/sites\.0\.lanes\.0\.id: expected an identifier/);
  });

  it('refuses a topic prefix with a dot and a site listed twice', () => {
    expect(() => parseCentralConfig({ ingest: nats, topicPrefix: 'check.point' })).toThrow(
      /topicPrefix: expected one topic level/,
    );
    expect(() => parseCentralConfig({ ingest: nats, sites: [{ id: 'a' }, { id: 'a' }] })).toThrow(
      /sites\.1\.id: site id "a" is listed twice/,
    );
  });

  it('takes a central identity for MQTT 5 commands and refuses it where commands go over MQTT 3.1.1', () => {
    const mqtt5 = { kind: 'mqtt', url: 'mqtt://127.0.0.1:1883' };
    expect(parseCentralConfig({ ingest: mqtt5, commands: { identity: 'central-hq' } }).commands.identity).toBe(
      'central-hq',
    );
    expect(() => parseCentralConfig({ ingest: nats, commands: { identity: 'central-hq' } })).toThrow(
      /commands\.identity: a central identity is sent as an MQTT 5 user property/,
    );
    expect(() =>
      parseCentralConfig({ ingest: { ...mqtt5, protocolVersion: 4 }, commands: { identity: 'central-hq' } }),
    ).toThrow(/commands\.identity: .*ingest\.protocolVersion 4/);
  });

  it('takes a postgres store', () => {
    const c = parseCentralConfig({ ingest: nats, store: { kind: 'postgres', url: 'postgres://c@db/central' } });
    expect(c.store).toEqual({ kind: 'postgres', url: 'postgres://c@db/central', poolSize: 10 });
  });
});
