import type { Logger } from '../core/logger.js';
import type { CameraSimulator } from './camera/camera-sim.js';
import { startDemoCameras } from './camera/demo.js';
import type { VehicleKind } from './camera/scene.js';
import { startScannerStreamSim, type ScannerStreamSim, type SimScanRecord, type SimVehicle } from './scanner/index.js';
import { freeTcpPort, ScannerOpcuaServer, simEndpointUrl } from './scanner/opcua-server.js';
import { SensorSimulator } from './sensors/sensor-sim.js';

/** Line rate of the demo scanner: the fast end of real scanners (100-1,000 lines/s), so a truck takes seconds. */
const DEMO_LINE_RATE_HZ = 1000;
/** Each vehicle is seen approaching this long before its scan begins: longer than the cameras' pre-roll (default 2 s), so that picture shows it too. */
const DEMO_VEHICLE_LEAD_MS = 2500;

/** The simulated devices of the demo lane, and where they listen. */
export interface DemoSimulators {
  /** Scanner line stream server (TCP). */
  scanner?: { host: string; port: number };
  /** OPC UA scanner server endpoint. */
  opcuaEndpoint?: string;
  /** Camera simulator base URL; cameras at <base>/<id>/mjpeg and <base>/<id>/snapshot.jpg. */
  cameraBaseUrl?: string;
  /** CO2 probe and heartbeat detector simulators (Modbus TCP), each fed the vehicle the scanner is about to scan. */
  sensors?: { co2: { host: string; port: number }; heartbeat: { host: string; port: number } };
  /** Simulators this build does not have, said to the user at start. */
  missing: string[];
  stop(): Promise<void>;
}

export interface DemoSimulatorOptions {
  log: Logger;
  /** Share of vehicles with concealed people (0-1). */
  personShare: number;
  seed: number;
  /** Pause between vehicles. */
  gapMs: number;
}

/** Starts every simulator the demo lane uses. */
export async function startDemoSimulators(_opts: DemoSimulatorOptions): Promise<DemoSimulators> {
  const cameras = await startDemoCameras({ log: _opts.log.child({ sim: 'camera' }) });
  const scanner = await startScannerStreamSim({
    tcpPort: 0,
    personShare: _opts.personShare,
    seed: _opts.seed,
    gapMs: _opts.gapMs,
    vehicleLeadMs: DEMO_VEHICLE_LEAD_MS,
    lineRateHz: DEMO_LINE_RATE_HZ,
    log: _opts.log.child({ sim: 'scanner' }),
  }).catch(async (err: Error) => {
    await cameras.stop();
    throw new Error(`demo: the scanner simulator did not start: ${err.message}`, { cause: err });
  });
  // node-opcua takes seconds to start a server; the lane's OPC UA client retries until it is up,
  // so it starts in the background on a port chosen now.
  const opcuaPort = await freeTcpPort();
  const opcuaLog = _opts.log.child({ sim: 'opcua' });
  const opcua = new ScannerOpcuaServer({ port: opcuaPort, log: opcuaLog });
  const opcuaStarted = opcua.start().then(
    () => true,
    (err: Error) => {
      opcuaLog.error({ err }, `demo: the OPC UA scanner simulator did not start: ${err.message}`);
      return false;
    },
  );
  const unlink = driveLaneFromScanner(scanner.sim, cameras.sim, opcua, _opts.log.child({ sim: 'lane' }));
  const co2 = new SensorSimulator('co2', { seed: _opts.seed + 1 });
  const heartbeat = new SensorSimulator('heartbeat', { seed: _opts.seed + 2 });
  const sensors = { co2: await co2.listenTcp(0), heartbeat: await heartbeat.listenTcp(0) };
  const unlinkSensors = driveSensorsFromScanner(scanner.sim, co2, heartbeat, _opts.log.child({ sim: 'sensors' }));
  return {
    cameraBaseUrl: cameras.baseUrl,
    sensors,
    scanner: scanner.tcp,
    opcuaEndpoint: simEndpointUrl('127.0.0.1', opcuaPort),
    missing: [],
    async stop() {
      unlink();
      unlinkSensors();
      await co2.stop();
      await heartbeat.stop();
      if (await opcuaStarted) await opcua.stop();
      await scanner.sim.stop();
      await cameras.stop();
    },
  };
}

/**
 * Where the camera simulator draws a vehicle as it is announced and when its scan has been sent
 * (0 entering the picture, 0.5 under the gantry, 1 gone): the front and plate cameras see it
 * from 0.05 to 0.5, so every picture from its approach to its scan end shows its front and plate.
 */
const APPROACH_AT = 0.05;
const SCAN_END_AT = 0.5;

/** The camera simulator's drawing of a scanner vehicle class (the synthesizer's car, van, box-truck, articulated). */
export function cameraVehicleKind(vehicleClass: string): VehicleKind {
  return vehicleClass === 'car' || vehicleClass === 'van' ? vehicleClass : 'truck';
}

/**
 * Keeps the demo lane's simulators in step with the scanner's line stream. As a vehicle
 * approaches ('vehicle'), it enters the cameras' pictures with its plate and class, timed to
 * reach the gantry as its scan has been streamed, and the OPC UA scanner is armed; as its scan
 * begins ('scanBegin'), the OPC UA scanner goes Scanning with radiation on and the vehicle's
 * speed; when the scan has been sent ('scan'), it goes back to Ready. Returns the unsubscribe.
 */
export function driveLaneFromScanner(
  scanner: ScannerStreamSim,
  cameras: CameraSimulator,
  opcua: ScannerOpcuaServer,
  log: Logger,
): () => void {
  const onVehicle = (v: SimVehicle) => {
    const passMs = Math.max(100, (v.beginsInMs + v.expectedMs) / (SCAN_END_AT - APPROACH_AT));
    cameras.vehicleEntering(v.plate, { kind: cameraVehicleKind(v.vehicleClass), passMs, position: APPROACH_AT });
    // The scanner's own control system, armed for the coming vehicle.
    if (opcua.state !== 'Ready') {
      log.warn(
        { scanId: v.scanId, state: opcua.state },
        `demo: the OPC UA scanner simulator is ${opcua.state}, not Ready; scan ${v.scanId} is not shown on it`,
      );
      return;
    }
    const armed = opcua.arm();
    if (armed !== 'Good')
      log.warn(
        { scanId: v.scanId, status: armed },
        `demo: the OPC UA scanner simulator refused Arm (${armed}) for scan ${v.scanId}`,
      );
  };
  const onScanBegin = (v: SimVehicle) => {
    if (opcua.state === 'Armed') opcua.beginScan(v.speedKmh);
  };
  const onScan = (r: SimScanRecord) => {
    if (opcua.state === 'Scanning') opcua.endScan();
    else if (opcua.state === 'Armed') opcua.abort();
    if (opcua.state !== 'Ready')
      log.debug(
        { scanId: r.scanId, state: opcua.state },
        `demo: the OPC UA scanner simulator is ${opcua.state} after scan ${r.scanId}`,
      );
  };
  scanner.on('vehicle', onVehicle);
  scanner.on('scanBegin', onScanBegin);
  scanner.on('scan', onScan);
  return () => {
    scanner.off('vehicle', onVehicle);
    scanner.off('scanBegin', onScanBegin);
    scanner.off('scan', onScan);
  };
}

/**
 * Puts each vehicle the scanner simulator announces at the CO2 probe and the heartbeat detector:
 * one draw of how it meets them (time shut in, door opened, engine running, probe not plugged
 * in), with the people and cargo of its synthesized scan. Returns the unsubscribe.
 */
export function driveSensorsFromScanner(
  scanner: ScannerStreamSim,
  co2: SensorSimulator,
  heartbeat: SensorSimulator,
  log: Logger,
): () => void {
  const onVehicle = (v: SimVehicle) => {
    const sensed = co2.vehicleArrives({
      plate: v.plate,
      vehicleClass: v.vehicleClass || 'box-truck',
      people: v.people ?? 0,
      ...(v.cargoDensity ? { cargoDensity: v.cargoDensity } : {}),
    });
    heartbeat.setVehicle(sensed);
    const notes = [
      sensed.doorOpened ? 'door opened' : '',
      sensed.engineRunning ? 'engine running' : '',
      sensed.probeDisconnected ? 'probe not plugged in' : '',
    ].filter(Boolean);
    log.debug(
      { scanId: v.scanId, people: sensed.people },
      `demo: vehicle ${v.plate} at the CO2 probe and heartbeat detector: ${sensed.people} people${notes.length ? ` (${notes.join(', ')})` : ''}`,
    );
  };
  scanner.on('vehicle', onVehicle);
  return () => scanner.off('vehicle', onVehicle);
}
