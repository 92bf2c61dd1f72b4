import type { FusionConfig } from '../../config/schema/sensors.js';
import type { Service } from '../../core/service.js';
import { ModbusSensorService } from '../../firmware-bridge/sensors/modbus-sensor.js';
import type { LaneContext } from '../context.js';

/**
 * Builds the lane's CO2 probes and heartbeat detectors (one Modbus poller each, readings and
 * health on the lane's bus) and what the pipeline needs to fuse them with the X-ray verdict.
 * A lane without sensors gets no fusion: its results are the X-ray's alone, as before.
 */
export function createSensorServices(ctx: LaneContext): {
  services: Service[];
  fusion?: { config: FusionConfig; configured: { co2: boolean; heartbeat: boolean } };
} {
  const { lane, bus, log } = ctx;
  const services = lane.sensors.map(
    (sensor) =>
      new ModbusSensorService({
        laneId: lane.id,
        sensor,
        publishStatus: (s) => bus.emit('device.status', s),
        publishReading: (r) => bus.emit('sensor.reading', r),
        log: log.child({ part: 'sensor', sensor: sensor.id }),
      }),
  );
  if (services.length === 0) return { services };
  const configured = {
    co2: lane.sensors.some((s) => s.kind === 'co2'),
    heartbeat: lane.sensors.some((s) => s.kind === 'heartbeat'),
  };
  return { services, fusion: { config: lane.fusion, configured } };
}
