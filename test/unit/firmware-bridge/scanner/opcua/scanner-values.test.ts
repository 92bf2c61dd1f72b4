import { describe, expect, it } from 'vitest';
import { opcua } from '../../../../../config/schema/scanner.js';
import { rejectionHint } from '../../../../../firmware-bridge/scanner/opcua/scanner-commands.js';
import {
  applyValue,
  decodeState,
  emptySnapshot,
  openInterlocks,
  scannerOpcuaStatus,
  type ScannerSnapshot,
} from '../../../../../firmware-bridge/scanner/opcua/scanner-values.js';

const good = (value: unknown) => ({ value, status: 'Good' });
const up = { up: true } as const;

function snap(values: Partial<ScannerSnapshot> = {}): ScannerSnapshot {
  return { ...emptySnapshot(), ...values };
}

describe('decodeState', () => {
  it('takes the state names in any case and 0-4 as the enumeration', () => {
    expect(decodeState('Ready')).toBe('Ready');
    expect(decodeState('SCANNING')).toBe('Scanning');
    expect(decodeState(2)).toBe('Armed');
    expect(decodeState('4')).toBe('Fault');
    expect(decodeState(5)).toBeNull();
    expect(decodeState('Standby')).toBeNull();
    expect(decodeState({ text: 'Armed', locale: 'en' })).toBe('Armed');
  });

  it('uses the configured map first, and then no longer guesses numbers', () => {
    const map = { '10': 'Ready', '20': 'Scanning', Standby: 'Off' } as const;
    expect(decodeState(10, map)).toBe('Ready');
    expect(decodeState('Standby', map)).toBe('Off');
    expect(decodeState('fault', map)).toBe('Fault');
    expect(decodeState(1, map)).toBeNull();
  });
});

describe('applyValue', () => {
  it('decodes each field and reports nothing for good values', () => {
    const s = snap();
    const names = ['doors', 'exclusion-zone', 'emergency-stop'];
    expect(applyValue(s, 'state', good('Armed'), 'n')).toBeNull();
    expect(applyValue(s, 'interlocks', good(0b101), 'n', { interlockNames: names })).toBeNull();
    expect(applyValue(s, 'fault', good('  '), 'n')).toBeNull();
    expect(applyValue(s, 'speed', good(4.5), 'n')).toBeNull();
    expect(applyValue(s, 'radiation', good(true), 'n')).toBeNull();
    expect(s).toEqual({
      state: 'Armed',
      stateRaw: 'Armed',
      interlocks: 5,
      interlocksOpen: ['doors', 'emergency-stop'],
      speedKmh: 4.5,
      radiationOn: true,
      fault: '',
    });
  });

  it('takes a Boolean interlock value as "all closed"', () => {
    const s = snap();
    applyValue(s, 'interlocks', good(false), 'n');
    expect(s.interlocksOpen).toEqual(['interlocks']);
    applyValue(s, 'interlocks', good(true), 'n');
    expect(s.interlocksOpen).toEqual([]);
  });

  it('says which field, node and setting is wrong for a bad status, and forgets the old value', () => {
    const s = snap({ speedKmh: 12 });
    const p = applyValue(s, 'speed', { value: null, status: 'BadNodeIdUnknown' }, 'ns=2;s=Speed');
    expect(p).toBe('speed (ns=2;s=Speed) cannot be read: BadNodeIdUnknown; check scanner.opcua.nodes.speed');
    expect(s.speedKmh).toBeNull();
  });

  it('reports values of the wrong type and unmapped states', () => {
    expect(applyValue(snap(), 'speed', good('fast'), 'n')).toMatch(/speed \(n\) is string "fast", expected a number/);
    expect(applyValue(snap(), 'interlocks', good(-1), 'n')).toMatch(/expected a UInt32 bit mask or a Boolean/);
    const s = snap();
    expect(applyValue(s, 'state', good('Warmup'), 'ns=3;i=7')).toMatch(
      /state value "Warmup" \(ns=3;i=7\) is not one of .*scanner\.opcua\.stateValues/,
    );
    expect(s).toMatchObject({ state: null, stateRaw: 'Warmup' });
  });
});

describe('openInterlocks', () => {
  it('names each set bit, bit0... where no name is configured', () => {
    expect(openInterlocks(0)).toEqual([]);
    expect(openInterlocks(0x80000001)).toEqual(['bit0', 'bit31']);
    expect(openInterlocks(0b110, ['a', 'b'])).toEqual(['b', 'bit2']);
  });
});

describe('scannerOpcuaStatus', () => {
  it('is ok with the state and open interlocks in the detail and every value in info', () => {
    const s = scannerOpcuaStatus(
      up,
      snap({
        state: 'Ready',
        stateRaw: 'Ready',
        interlocks: 1,
        interlocksOpen: ['doors'],
        speedKmh: 0,
        radiationOn: false,
        fault: '',
      }),
      [],
    );
    expect(s).toEqual({
      state: 'ok',
      detail: 'scanner Ready; interlocks open: doors',
      info: {
        scannerState: 'Ready',
        interlocks: 1,
        interlocksOpen: 'doors',
        speedKmh: 0,
        radiationOn: false,
        fault: null,
      },
    });
  });

  it('is fault with the fault text as detail when there is a fault text, whatever the state', () => {
    const s = scannerOpcuaStatus(up, snap({ state: 'Scanning', fault: 'HV trip' }), []);
    expect(s.state).toBe('fault');
    expect(s.detail).toBe('HV trip');
    expect(s.info?.fault).toBe('HV trip');
  });

  it('is fault when the state is Fault without a text', () => {
    expect(scannerOpcuaStatus(up, snap({ state: 'Fault', fault: '' }), [])).toMatchObject({
      state: 'fault',
      detail: 'the scanner reports state Fault without a fault text',
    });
  });

  it('a fault outranks a configuration problem; a problem alone is degraded, never fault', () => {
    expect(scannerOpcuaStatus(up, snap({ state: 'Fault' }), ['x']).state).toBe('fault');
    expect(
      scannerOpcuaStatus(up, snap({ state: 'Ready', fault: '' }), ['speed broken', 'radiation broken']),
    ).toMatchObject({ state: 'degraded', detail: 'speed broken; radiation broken' });
  });

  it('is disconnected (or starting) with the reason while the link is down', () => {
    expect(
      scannerOpcuaStatus({ up: false, starting: false, reason: 'lost it' }, snap({ state: 'Fault' }), []),
    ).toMatchObject({ state: 'disconnected', detail: 'lost it' });
    expect(scannerOpcuaStatus({ up: false, starting: true, reason: 'connecting' }, snap(), []).state).toBe('starting');
  });

  it('shows an unmapped state in info so the operator sees what the server sent', () => {
    expect(scannerOpcuaStatus(up, snap({ stateRaw: 'Warmup' }), ['unmapped']).info?.scannerState).toBe(
      'unmapped:Warmup',
    );
  });
});

describe('rejectionHint', () => {
  it('explains BadInvalidState with the present state and open interlocks', () => {
    expect(rejectionHint('arm', 'BadInvalidState', snap({ state: 'Ready', interlocksOpen: ['doors'] }))).toBe(
      'the scanner arms only when Ready with every interlock closed (now: Ready, interlocks open: doors)',
    );
  });

  it('points at the node settings for an unknown method', () => {
    expect(rejectionHint('abort', 'BadMethodInvalid', snap())).toMatch(
      /scanner\.opcua\.nodes\.abort and scanner\.opcua\.nodes\.object/,
    );
  });
});

describe('opcua config', () => {
  it('refuses a security mode without a matching policy, and the other way round', () => {
    expect(
      opcua.safeParse({ endpoint: 'opc.tcp://x:4840', securityMode: 'SignAndEncrypt' }).error?.issues[0].message,
    ).toMatch(/securityMode SignAndEncrypt cannot go with securityPolicy None/);
    expect(opcua.safeParse({ endpoint: 'opc.tcp://x:4840', securityPolicy: 'Basic256Sha256' }).success).toBe(false);
    expect(
      opcua.safeParse({
        endpoint: 'opc.tcp://x:4840',
        securityMode: 'SignAndEncrypt',
        securityPolicy: 'Basic256Sha256',
      }).success,
    ).toBe(true);
  });

  it('takes a state map and interlock names', () => {
    const c = opcua.parse({
      endpoint: 'opc.tcp://x:4840',
      stateValues: { '3': 'Scanning' },
      interlockNames: ['doors'],
    });
    expect(c.stateValues).toEqual({ '3': 'Scanning' });
    expect(opcua.safeParse({ endpoint: 'opc.tcp://x:4840', stateValues: { '3': 'Busy' } }).success).toBe(false);
  });
});
