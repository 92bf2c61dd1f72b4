import { describe, expect, it } from 'vitest';
import { onScannerOpcuaFault } from '../../../../../firmware-bridge/scanner/opcua/fault-signal.js';
import { EventBus } from '../../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../../core/events.js';
import { deviceStatus } from '../../../../../core/health.js';
import { silentLogger } from '../../../../../core/logger.js';

describe('onScannerOpcuaFault', () => {
  it('fires once per entry into fault, with the fault text, for its device only', () => {
    const bus = new EventBus<LaneEvents>(silentLogger());
    const seen: string[] = [];
    const off = onScannerOpcuaFault(bus, 'scanner.opcua', 'test', (t) => seen.push(t));
    bus.emit('device.status', deviceStatus('scanner.opcua', 'ok', 'scanner Scanning'));
    bus.emit('device.status', deviceStatus('scanner.opcua', 'fault', 'HV trip', { speedKmh: 4 }));
    bus.emit('device.status', deviceStatus('scanner.opcua', 'fault', 'HV trip', { speedKmh: 0 }));
    bus.emit('device.status', deviceStatus('scanner', 'fault', 'line-stream fault'));
    bus.emit('device.status', deviceStatus('scanner.opcua', 'disconnected', 'lost'));
    bus.emit('device.status', deviceStatus('scanner.opcua', 'fault', 'door opened'));
    off();
    bus.emit('device.status', deviceStatus('scanner.opcua', 'ok', 'scanner Ready'));
    bus.emit('device.status', deviceStatus('scanner.opcua', 'fault', 'after unsubscribe'));
    expect(seen).toEqual(['HV trip', 'door opened']);
  });
});
