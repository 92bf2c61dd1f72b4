import { z } from 'zod';
import { ident, intIn, numIn, port, text } from './fields.js';

export const registerField = z
  .strictObject({
    address: intIn(0, 65535).describe('Register address (0-based, as on the wire: register 40001 is address 0).'),
    type: z
      .enum(['u16', 's16', 'u32', 's32', 'f32'])
      .default('u16')
      .describe('u16/s16: one register; u32/s32/f32: two registers, high word first.'),
    scale: z.number().default(1).describe('Engineering value = raw value × scale (e.g. 0.1 for tenths of a degree).'),
    min: z.number().optional().describe('Lowest plausible engineering value; below it the reading is out of range.'),
    max: z
      .number()
      .optional()
      .describe(
        'Highest plausible engineering value; above it the reading is out of range (e.g. 65535 sent as an error value).',
      ),
  })
  .describe("One value in a device's registers.");

const table = z.enum(['holding', 'input']).describe('holding: function 3; input: function 4.');

/**
 * Default CO2 probe map, modelled on common RS-485 NDIR CO2 transmitters (holding registers,
 * CO2 in ppm with a 0-10,000 ppm range, temperature and humidity in tenths, a status word).
 */
export const CO2_DEFAULT_MAP = {
  table: 'holding' as const,
  fields: {
    ppm: { address: 0, type: 'u16' as const, scale: 1, min: 0, max: 10_000 },
    temperatureC: { address: 1, type: 's16' as const, scale: 0.1, min: -40, max: 85 },
    humidityPct: { address: 2, type: 'u16' as const, scale: 0.1, min: 0, max: 100 },
    /** Bit 0: warming up; bit 1: sensor fault. */
    status: { address: 3, type: 'u16' as const, scale: 1 },
  },
};

/**
 * Default heartbeat detector map (input registers): detection score and signal quality in
 * thousandths, the engine-off condition (1: holds) and a status word.
 */
export const HEARTBEAT_DEFAULT_MAP = {
  table: 'input' as const,
  fields: {
    score: { address: 0, type: 'u16' as const, scale: 0.001, min: 0, max: 1 },
    signalQuality: { address: 1, type: 'u16' as const, scale: 0.001, min: 0, max: 1 },
    engineOff: { address: 2, type: 'u16' as const, scale: 1, min: 0, max: 1 },
    /** Bit 0: measuring (not settled); bit 1: sensor fault. */
    status: { address: 3, type: 'u16' as const, scale: 1 },
  },
};

export const co2Registers = z
  .strictObject({
    table,
    fields: z
      .strictObject({
        ppm: registerField,
        temperatureC: registerField,
        humidityPct: registerField,
        status: registerField,
      })
      .describe('CO2 (ppm), temperature (°C), relative humidity (%) and the status word.'),
  })
  .default(CO2_DEFAULT_MAP)
  .describe(
    'Where the probe keeps its values. Default: holding registers 0-3 (ppm, temperature ×0.1 °C, humidity ×0.1 %, status: bit 0 warming up, bit 1 fault).',
  );

export const heartbeatRegisters = z
  .strictObject({
    table,
    fields: z
      .strictObject({
        score: registerField,
        signalQuality: registerField,
        engineOff: registerField,
        status: registerField,
      })
      .describe('Detection score (0-1), signal quality (0-1), engine off (0/1) and the status word.'),
  })
  .default(HEARTBEAT_DEFAULT_MAP)
  .describe(
    'Where the detector keeps its values. Default: input registers 0-3 (score ×0.001, signal quality ×0.001, engine off 0/1, status: bit 0 measuring, bit 1 fault).',
  );

export const modbusTransport = z.discriminatedUnion(
  'type',
  [
    z
      .strictObject({
        type: z.literal('rtu').describe('Modbus RTU on a serial line (RS-485).'),
        path: text().min(1).describe('Serial device of the RS-485 adapter, e.g. /dev/ttyUSB0.'),
        baudRate: z
          .union([
            z.literal(1200),
            z.literal(2400),
            z.literal(4800),
            z.literal(9600),
            z.literal(19200),
            z.literal(38400),
            z.literal(57600),
            z.literal(115200),
          ])
          .default(9600)
          .describe('Line speed the device is set to.'),
        parity: z
          .enum(['none', 'even', 'odd'])
          .default('none')
          .describe('Parity the device is set to (Modbus default: even; many transmitters ship with none).'),
        stopBits: z
          .union([z.literal(1), z.literal(2)])
          .default(1)
          .describe('Stop bits.'),
      })
      .describe('Modbus RTU on a serial line.'),
    z
      .strictObject({
        type: z.literal('tcp').describe('Modbus TCP.'),
        host: text().min(1).describe('Host name or address of the device or its gateway.'),
        port: port().default(502).describe('Modbus TCP port.'),
      })
      .describe('Modbus TCP.'),
  ],
  { error: () => 'expected transport.type rtu or tcp' },
);

const sensorCommon = {
  id: ident().describe('Device id, used in device status (co2.<id>, heartbeat.<id>) and in the evidence.'),
  transport: modbusTransport,
  unitId: intIn(0, 247).default(1).describe('Modbus unit (slave) id.'),
  pollMs: intIn(100, 60_000).default(1000).describe('Time between polls.'),
  timeoutMs: intIn(50, 10_000).default(500).describe('A poll not answered within this long counts as a timeout.'),
  offlineAfter: intIn(1, 100)
    .default(3)
    .describe(
      'Consecutive failed polls after which the device is reported offline and the link reopened with backoff.',
    ),
};

export const co2Sensor = z
  .strictObject({
    kind: z.literal('co2').describe('A CO2 probe.'),
    ...sensorCommon,
    registers: co2Registers,
  })
  .describe('A CO2 probe (NDIR transmitter) pushed into the load space.');

export const heartbeatSensor = z
  .strictObject({
    kind: z.literal('heartbeat').describe('A heartbeat detector.'),
    ...sensorCommon,
    registers: heartbeatRegisters,
  })
  .describe('A fixed heartbeat (geophone) detector under the vehicle.');

export const sensor = z.discriminatedUnion('kind', [co2Sensor, heartbeatSensor], {
  error: () => 'expected kind co2 or heartbeat',
});

/** A sense's likelihood model: the figure it reads is Gaussian under each hypothesis. */
const likelihood = (what: string, d: { mean0: number; sd0: number; mean1: number; sd1: number }) =>
  z
    .strictObject({
      mean0: z.number().default(d.mean0).describe(`Mean ${what} for vehicles without people.`),
      sd0: numIn(1e-6, 1e6).default(d.sd0).describe(`Its standard deviation without people.`),
      mean1: z.number().default(d.mean1).describe(`Mean ${what} for vehicles with people.`),
      sd1: numIn(1e-6, 1e6).default(d.sd1).describe(`Its standard deviation with people.`),
    })
    .default(d)
    .describe(`Likelihood model of the ${what}: Gaussian without and with people.`);

/**
 * Defaults fitted by `checkpoint-edge eval sensors` on its calibration half of the simulated
 * traffic (docs/sensors.md); a site refits them on its own dispositions.
 */
export const FUSION_DEFAULTS = {
  xray: { mean0: -4.103, sd0: 1.424, mean1: 7.756, sd1: 2.709 },
  co2: { mean0: 125.629, sd0: 210.734, mean1: 1469.146, sd1: 1308.158 },
  heartbeat: { mean0: -2.193, sd0: 1.386, mean1: 0.665, sd1: 1.481 },
};

export const fusion = z
  .strictObject({
    prior: numIn(0.001, 0.999)
      .default(0.25)
      .describe('Share of vehicles with people the lane expects (the prior of the fused posterior).'),
    alertPosterior: numIn(0.5, 0.9999)
      .default(0.9)
      .describe('Fused posterior at or above which a vehicle the X-ray cleared raises a person alert.'),
    supportLlr: numIn(0, 20)
      .default(1)
      .describe(
        'CO2 and heartbeat together support an X-ray alert at log-likelihood ratio ≥ this, and do not support it at ≤ −this.',
      ),
    windowBeforeScanS: intIn(0, 3600)
      .default(300)
      .describe(
        'Readings taken up to this long before a scan begins count for its vehicle (probe and detector are applied while it waits).',
      ),
    outdoorCo2Ppm: intIn(200, 2000).default(420).describe('Outdoor CO2 the rise is measured against.'),
    minSignalQuality: numIn(0, 1).default(0.2).describe('Heartbeat readings of lower signal quality are unusable.'),
    llrLimit: numIn(0.5, 50)
      .default(6)
      .describe('No single sense may move the decision by more than this log-likelihood ratio.'),
    xray: likelihood('logit of the X-ray score', FUSION_DEFAULTS.xray),
    co2: likelihood('CO2 rise over outdoor air (ppm)', FUSION_DEFAULTS.co2),
    heartbeat: likelihood('logit of the heartbeat score', FUSION_DEFAULTS.heartbeat),
  })
  .describe('How the lane fuses the X-ray score with CO2 and heartbeat evidence (docs/sensors.md).');

export const sensors = z.array(sensor).default([]).describe("The lane's CO2 probes and heartbeat detectors on Modbus.");

export type SensorConfig = z.infer<typeof sensor>;
export type Co2SensorConfig = z.infer<typeof co2Sensor>;
export type HeartbeatSensorConfig = z.infer<typeof heartbeatSensor>;
export type RegisterFieldConfig = z.infer<typeof registerField>;
export type ModbusTransportConfig = z.infer<typeof modbusTransport>;
export type FusionConfig = z.infer<typeof fusion>;
