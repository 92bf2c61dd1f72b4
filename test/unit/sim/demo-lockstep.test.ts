import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/logger.js';
import type { CameraSimulator } from '../../../sim/camera/camera-sim.js';
import { cameraVehicleKind, driveLaneFromScanner } from '../../../sim/demo.js';
import type { ScannerStreamSim, SimScanRecord, SimVehicle } from '../../../sim/scanner/line-stream-sim.js';
import { ScannerOpcuaServer } from '../../../sim/scanner/opcua-server.js';

const vehicle = (beginsInMs: number): SimVehicle => ({
  index: 0,
  scanKey: 1,
  scanId: 'sim-1-1',
  plate: 'AB 123 C',
  vehicleClass: 'van',
  speedKmh: 5,
  expectedMs: 2000,
  beginsInMs,
});

describe('demo lockstep: the scanner stream drives the cameras and the OPC UA scanner', () => {
  it('puts the announced vehicle in the pictures and walks the OPC UA scanner Ready -> Armed -> Scanning -> Ready', () => {
    const scanner = new EventEmitter();
    const entered: { plate: string; opts: unknown }[] = [];
    const cameras = { vehicleEntering: (plate: string, opts: unknown) => void entered.push({ plate, opts }) };
    // Not started: its state machine runs without a server, which is all this needs.
    const opcua = new ScannerOpcuaServer();
    const states: string[] = [];
    opcua.on('state', (s) => void states.push(s));
    const off = driveLaneFromScanner(
      scanner as unknown as ScannerStreamSim,
      cameras as unknown as CameraSimulator,
      opcua,
      silentLogger(),
    );
    scanner.emit('vehicle', vehicle(2500));
    expect(entered).toEqual([{ plate: 'AB 123 C', opts: { kind: 'van', passMs: 10_000, position: 0.05 } }]);
    expect(opcua.state).toBe('Armed');
    scanner.emit('scanBegin', vehicle(0));
    expect(opcua.state).toBe('Scanning');
    expect(opcua.radiationOn).toBe(true);
    scanner.emit('scan', { scanId: 'sim-1-1' } as SimScanRecord);
    expect(opcua.state).toBe('Ready');
    expect(opcua.radiationOn).toBe(false);
    expect(states).toEqual(['Armed', 'Scanning', 'Ready']);
    off();
    scanner.emit('vehicle', vehicle(2500));
    expect(entered).toHaveLength(1);
    expect(opcua.state).toBe('Ready');
  });

  it('leaves a faulted OPC UA scanner alone, and the cameras still show the vehicle', () => {
    const scanner = new EventEmitter();
    const entered: string[] = [];
    const opcua = new ScannerOpcuaServer();
    opcua.injectFault('interlock opened: doors');
    driveLaneFromScanner(
      scanner as unknown as ScannerStreamSim,
      { vehicleEntering: (p: string) => void entered.push(p) } as unknown as CameraSimulator,
      opcua,
      silentLogger(),
    );
    scanner.emit('vehicle', vehicle(0));
    scanner.emit('scanBegin', vehicle(0));
    scanner.emit('scan', { scanId: 'sim-1-1' } as SimScanRecord);
    expect(entered).toEqual(['AB 123 C']);
    expect(opcua.state).toBe('Fault');
  });

  it("draws the synthesizer's vehicle classes as the camera simulator's kinds", () => {
    expect(['car', 'van', 'box-truck', 'articulated', ''].map(cameraVehicleKind)).toEqual([
      'car',
      'van',
      'truck',
      'truck',
      'truck',
    ]);
  });
});
