import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCentralConfig, parseCentralConfig } from '../../../central/config.js';

const nats = { kind: 'nats', servers: ['nats://127.0.0.1:4222'], mqttUrl: 'mqtt://127.0.0.1:1883' };

describe('central config', () => {
  it('fills the defaults: embedded store, 20-minute work limit', () => {
    const c = parseCentralConfig({ ingest: { kind: 'mqtt', url: 'mqtt://127.0.0.1:1883' } });
    expect(c.store).toEqual({ kind: 'pglite', memory: false });
    expect(c.review).toEqual({ escalateAfterS: 120, workLimitMinutes: 20, breakMinutes: 10 });
    expect(c.http.port).toBe(8090);
  });

  it('refuses unknown keys and names where, with the nearest known key', () => {
    expect(() => parseCentralConfig({ ingest: { kind: 'mqtt', url: 'mqtt://x', qos: 2 } })).toThrow(
      /ingest\.qos: unknown key "qos"/,
    );
    expect(() => parseCentralConfig({ ingest: nats, reveiw: { escalateAfterS: 60 } })).toThrow(
      /reveiw: unknown key "reveiw"; did you mean "review"\?/,
    );
  });

  it('refuses site and lane ids with dots or spaces (nats-server cannot carry them in topics)', () => {
    let msg = '';
    try {
      parseCentralConfig({ ingest: nats, sites: [{ id: 'north.gate', lanes: [{ id: 'lane 1' }] }] });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/sites\[0\]\.id: expected an identifier/);
    expect(msg).toMatch(/sites\[0\]\.lanes\[0\]\.id: expected an identifier/);
  });

  it('refuses a topic prefix with a dot and a site listed twice', () => {
    expect(() => parseCentralConfig({ ingest: nats, topicPrefix: 'check.point' })).toThrow(
      /topicPrefix: expected one topic level/,
    );
    expect(() => parseCentralConfig({ ingest: nats, sites: [{ id: 'a' }, { id: 'a' }] })).toThrow(
      /sites\[1\]\.id: site id "a" is listed twice/,
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

  it('names the protocol versions it takes', () => {
    expect(() => parseCentralConfig({ ingest: { kind: 'mqtt', url: 'mqtt://x:1883', protocolVersion: 7 } })).toThrow(
      /ingest\.protocolVersion: expected one of 4, 5, got 7/,
    );
  });

  it('takes a postgres store', () => {
    const c = parseCentralConfig({ ingest: nats, store: { kind: 'postgres', url: 'postgres://c@db/central' } });
    expect(c.store).toEqual({ kind: 'postgres', url: 'postgres://c@db/central', poolSize: 10 });
  });
});

describe('central config files', () => {
  const env = { CENTRAL_MQTT_PASSWORD: 'x', CENTRAL_ADMIN_PASSWORD: 'y'.repeat(12), PGPASSWORD: 'z' };

  it('loads the shipped examples', async () => {
    const site = await loadCentralConfig('config/examples/central/site.yaml', env);
    expect(site.ingest).toMatchObject({ kind: 'mqtt', protocolVersion: 5, clientId: 'checkpoint-central' });
    expect(site.sites.map((s) => s.lanes.map((l) => l.id))).toEqual([['lane-1', 'lane-2']]);
    const network = await loadCentralConfig('config/examples/central/network.yaml', env);
    expect(network.ingest).toMatchObject({ kind: 'nats', replicas: 3 });
    expect(network.store).toMatchObject({ kind: 'postgres', url: 'postgres://central:z@db.hq.example:5432/central' });
  });

  it('reads a value that is one ${VAR} as a number or true/false where the key takes one, as the lane config does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'central-config-'));
    const file = join(dir, 'central.yaml');
    writeFileSync(
      file,
      [
        'ingest: { kind: mqtt, url: "mqtt://127.0.0.1:1883" }',
        'http:',
        '  port: ${CENTRAL_PORT}',
        'store:',
        '  kind: pglite',
        '  memory: ${CENTRAL_MEMORY}',
        '',
      ].join('\n'),
    );
    const c = await loadCentralConfig(file, { CENTRAL_PORT: '8099', CENTRAL_MEMORY: 'true' });
    expect(c.http.port).toBe(8099);
    expect(c.store).toMatchObject({ kind: 'pglite', memory: true });
    // Text that is not a number stays text, and is refused as such.
    await expect(loadCentralConfig(file, { CENTRAL_PORT: 'eighty', CENTRAL_MEMORY: 'true' })).rejects.toThrow(
      /http\.port \(line 3\): expected an integer 0-65535, got "eighty"/,
    );
  });

  it('says a file cannot be read on one line, never shows a password, and gives an unset variable its line', async () => {
    await expect(loadCentralConfig('/nonexistent/central.yaml', env)).rejects.toThrow(
      /^central config \/nonexistent\/central\.yaml: cannot read the file \(ENOENT\)$/,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'central-config-')), 'central.yaml');
    writeFileSync(
      file,
      [
        'ingest:',
        '  kind: mqtt',
        '  url: mqtt://127.0.0.1:1883',
        '  password: 1234567',
        'accounts:',
        '  bootstrapAdmin:',
        '    name: admin',
        '    password: ${NOT_SET}',
        '',
      ].join('\n'),
    );
    let msg = '';
    try {
      await loadCentralConfig(file, {});
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toContain(
      'ingest.password (line 4): expected a string, got a number (value not shown: it is a secret)',
    );
    expect(msg).toContain('accounts.bootstrapAdmin.password (line 8): environment variable NOT_SET is not set');
    expect(msg).not.toContain('1234567');
  });

  it('names the file and the line of a YAML error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'central-config-'));
    const file = join(dir, 'central.yaml');
    writeFileSync(file, 'accounts:\n  bootstrapAdmin: { name: admin, password: ${CENTRAL_ADMIN_PASSWORD} }\n');
    await expect(loadCentralConfig(file, env)).rejects.toThrow(
      new RegExp(`^central config ${file}: YAML syntax at line 2, column \\d+: `),
    );
  });
});
