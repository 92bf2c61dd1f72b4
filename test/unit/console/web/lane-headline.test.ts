import { describe, expect, it } from 'vitest';
import { deviceFacts, laneBanner } from '../../../../console/web/src/lane-headline.js';
import type { DeviceStatus } from '../../../../core/domain.js';
import { scannerOpcuaStatus } from '../../../../firmware-bridge/scanner/opcua/scanner-values.js';

const dev = (
  device: string,
  state: DeviceStatus['state'],
  detail?: string,
  info?: DeviceStatus['info'],
): DeviceStatus => ({ device, state, since: 'x', ...(detail ? { detail } : {}), ...(info ? { info } : {}) });
const health = (overall: 'ok' | 'degraded' | 'detection-unavailable', devices: DeviceStatus[]) => ({
  laneId: 'lane-1',
  overall,
  devices,
  updatedAt: 'x',
});
const READY = { scannerState: 'Ready', interlocks: 0, interlocksOpen: '', radiationOn: false, speedKmh: 0 };

describe('console headline', () => {
  const model = dev('model', 'ok');
  it('OPC UA lost alone: control and status lost, screening goes on (not a red scanner-disconnected)', () => {
    const b = laneBanner(
      health('degraded', [
        model,
        dev('scanner', 'ok', 'connected'),
        dev('scanner.opcua', 'disconnected', 'opc.tcp://x: connection refused', READY),
      ]),
      'live',
    );
    expect(b.level).toBe('warn');
    expect(b.title).toBe('SCANNER CONTROL LOST — SCREENING GOES ON');
    expect(b.lines[0]).toMatch(
      /state, interlocks and faults are unknown.*Arm\/Abort cannot be sent.*Scan images still arrive and are screened/,
    );
  });

  it('line stream lost: no images, vehicles not screened; says whether control still works', () => {
    const b = laneBanner(
      health('degraded', [
        model,
        dev('scanner', 'disconnected', 'serial unplugged'),
        dev('scanner.opcua', 'ok', 'scanner Ready'),
      ]),
      'live',
    );
    expect([b.level, b.title]).toEqual(['bad', 'NO SCANNER IMAGES — VEHICLES ARE NOT SCREENED']);
    expect(b.lines).toContain('Scanner control and status (OPC UA) still work.');
    const both = laneBanner(
      health('degraded', [model, dev('scanner', 'disconnected'), dev('scanner.opcua', 'disconnected')]),
      'live',
    );
    expect(both.lines).toContain('Scanner control and status (OPC UA) are lost too.');
  });

  it('a file drop that still works keeps screening when the line stream is down', () => {
    const b = laneBanner(
      health('degraded', [model, dev('scanner', 'disconnected'), dev('scanner.filedrop', 'ok')]),
      'live',
    );
    expect([b.level, b.title]).toEqual(['warn', 'LANE DEGRADED — SCREENING GOES ON']);
  });

  it('a scanner fault, detection unavailable, a camera down, all well, no connection', () => {
    expect(laneBanner(health('degraded', [model, dev('scanner.opcua', 'fault', 'E-STOP pressed')]), 'live').title).toBe(
      'SCANNER FAULT — NO SCANS UNTIL IT IS CLEARED',
    );
    expect(
      laneBanner(health('detection-unavailable', [dev('model', 'unavailable'), dev('scanner', 'disconnected')]), 'live')
        .title,
    ).toBe('DETECTION UNAVAILABLE — SCANS ARE NOT SCREENED FOR PEOPLE');
    expect(
      laneBanner(health('degraded', [model, dev('scanner', 'ok'), dev('camera.front', 'offline')]), 'live'),
    ).toMatchObject({ level: 'warn', title: 'LANE DEGRADED — SCREENING GOES ON' });
    expect(laneBanner(health('ok', [model, dev('scanner', 'ok')]), 'live')).toMatchObject({
      level: 'ok',
      title: 'SCREENING ACTIVE',
    });
    expect(laneBanner(health('ok', [model]), 'lost').title).toBe('NO CONNECTION TO THE LANE');
  });
});

describe('device tiles', () => {
  it('show "unknown" for every scanner value once the link is down, never the last value seen', () => {
    const up = deviceFacts(dev('scanner.opcua', 'ok', 'scanner Ready', READY)).shown.map((f) => f.text);
    expect(up).toEqual(['State: Ready', 'Interlocks closed']);
    for (const state of ['disconnected', 'offline'] as const) {
      const down = deviceFacts(dev('scanner.opcua', state, 'gone', READY)).shown.map((f) => f.text);
      expect(down).toEqual(['State: unknown', 'Interlocks: unknown', 'Radiation: unknown']);
      expect(down.join(' ')).not.toMatch(/Ready|closed/);
    }
    // the line stream's own tile, as the translator sends it after an unplug (values null)
    const unplugged = deviceFacts(
      dev('scanner', 'disconnected', 'serial gone', {
        scannerState: null,
        interlocksOk: null,
        radiationOn: null,
        speedKmh: null,
        crcErrors: 0,
      }),
    ).shown.map((f) => f.text);
    expect(unplugged).toEqual(['State: unknown', 'Interlocks: unknown', 'Radiation: unknown']);
    // a device that reads nothing from the scanner has no such line
    expect(deviceFacts(dev('mqtt', 'disconnected', 'x', { outboxDepth: 3 })).shown.map((f) => f.text)).toEqual([
      'Outbox: 3 waiting',
    ]);
  });

  it('the OPC UA status sends every value as null (unknown) while its link is down', () => {
    const snap = {
      state: 'Ready',
      stateRaw: 1,
      interlocks: 0,
      interlocksOpen: [],
      speedKmh: 4,
      radiationOn: false,
      fault: null,
    } as never;
    const down = scannerOpcuaStatus({ up: false, starting: false, reason: 'connection refused' }, snap, []);
    expect(down.state).toBe('disconnected');
    expect(Object.values(down.info!).every((v) => v === null)).toBe(true);
    expect(scannerOpcuaStatus({ up: true }, snap, []).info).toMatchObject({ scannerState: 'Ready', interlocks: 0 });
  });
});

describe('history detail of an alert', () => {
  it('says "at central command" where the live banner does, for the acknowledgement and the disposition', async () => {
    const { alertSummary } = await import('../../../../console/web/src/format.js');
    const at = new Date().toISOString();
    const line = alertSummary({
      alert: { alertId: 'A1' } as never,
      state: 'closed',
      acknowledgedAt: at,
      acknowledgedBy: 'hq-bob',
      acknowledgedOrigin: 'central',
      disposition: 'false-alarm',
      dispositionAt: at,
      dispositionBy: 'olga',
      dispositionOrigin: 'console',
      note: 'pallets',
    });
    expect(line).toMatch(
      /^Alert A1: closed — acknowledged by hq-bob at central command \d\d:\d\d:\d\d — False alarm by olga \d\d:\d\d:\d\d — “pallets”$/,
    );
    const central = alertSummary({
      alert: { alertId: 'A2' } as never,
      state: 'closed',
      acknowledgedAt: null,
      acknowledgedBy: null,
      acknowledgedOrigin: null,
      disposition: 'person-found',
      dispositionAt: at,
      dispositionBy: 'hq-bob',
      dispositionOrigin: 'central',
      note: null,
    });
    expect(central).toMatch(/Person found by hq-bob at central command/);
  });
});
