import { z } from 'zod';
import { bool, ident, intIn, numIn, port, text, secret, wordsOr } from './fields.js';
import { LOW_ENERGY_SCALE_RANGE } from '../../core/dual-energy-scale.js';

/**
 * Pixel pitch range, mm at the vehicle: for scanner.pixelMm and for every pitch a scanner sends
 * (line-stream scan-begin, file-drop sidecar), which is refused outside it.
 */
export const PIXEL_MM_RANGE = { min: 0.5, max: 50 } as const;
/** Line rate range a scan-begin may declare (0 = not given). */
export const LINE_RATE_HZ_RANGE = { min: 1, max: 20_000 } as const;

const tcpTransport = z
  .strictObject({
    type: z.literal('tcp').describe('Transport kind.'),
    host: text('a host name or address').default('127.0.0.1').describe('Scanner line-stream server host.'),
    port: port().describe('Scanner line-stream server TCP port.'),
  })
  .describe('Line stream over TCP (the scanner is the server).');

const serialTransport = z
  .strictObject({
    type: z.literal('serial').describe('Transport kind.'),
    path: text('a device path').describe('Serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/...'),
    baudRate: intIn(1200, 12_000_000).default(3_000_000).describe('Line speed in baud.'),
  })
  .describe('Line stream over a serial port.');

const lineTransport = z.discriminatedUnion('type', [tcpTransport, serialTransport], {
  error: (iss) =>
    `expected a transport with type "tcp" or "serial", got ${iss.input && typeof iss.input === 'object' ? JSON.stringify((iss.input as { type?: unknown }).type ?? null) : String(iss.input)}`,
});

const opcuaNodes = z
  .strictObject({
    state: text()
      .default('ns=1;s=Scanner.State')
      .describe('Node id of the scanner state (String or Int32 enumeration).'),
    interlocks: text()
      .default('ns=1;s=Scanner.Interlocks')
      .describe('Node id of the interlock status (UInt32 bit mask or Boolean).'),
    fault: text().default('ns=1;s=Scanner.Fault').describe('Node id of the active fault text (empty when none).'),
    speed: text().default('ns=1;s=Scanner.VehicleSpeed').describe('Node id of the vehicle speed in km/h.'),
    radiation: text().default('ns=1;s=Scanner.RadiationOn').describe('Node id of the radiation-on flag.'),
    object: text().default('ns=1;s=Scanner').describe('Node id of the object that owns the methods.'),
    arm: text().default('ns=1;s=Scanner.Arm').describe('Node id of the Arm method.'),
    abort: text().default('ns=1;s=Scanner.Abort').describe('Node id of the Abort method.'),
  })
  .describe("Where the scanner vendor's address space keeps each value: configured, not coded.");

export const opcua = z
  .strictObject({
    endpoint: text('an opc.tcp:// URL').describe('OPC UA endpoint of the scanner, e.g. opc.tcp://10.0.0.5:4840.'),
    securityMode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None').describe('Message security mode.'),
    securityPolicy: z
      .enum(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'])
      .default('None')
      .describe('Security policy.'),
    pkiDir: text()
      .optional()
      .describe(
        'Folder of the client certificate store (own cert, trusted server certs; see docs/opcua.md). Default: <dataDir>/lanes/<lane id>/pki/opcua.',
      ),
    username: text().optional().describe('User name, if the server requires one.'),
    password: secret().optional().describe('Password: use ${ENV_VAR}, never a literal.'),
    nodes: opcuaNodes.default(opcuaNodes.parse({})),
    samplingMs: intIn(10, 10_000).default(100).describe('Sampling and publishing interval of the subscription.'),
    stateValues: z
      .record(z.string(), z.enum(['Off', 'Ready', 'Armed', 'Scanning', 'Fault']))
      .optional()
      .describe(
        'Map from the vendor\'s state value (a text, or an enumeration number written as text, e.g. "3") to Off, Ready, Armed, Scanning or Fault. Default: those names in any case, and 0-4 in that order.',
      ),
    interlockNames: z
      .array(text('an interlock name'))
      .max(32)
      .optional()
      .describe(
        'Name of each interlock bit, bit 0 first, said in status messages (a set bit is an open interlock). Default: bit0, bit1, ...',
      ),
  })
  .superRefine((o, ctx) => {
    if ((o.securityMode === 'None') !== (o.securityPolicy === 'None')) {
      ctx.addIssue({
        code: 'custom',
        path: ['securityPolicy'],
        message: `securityMode ${o.securityMode} cannot go with securityPolicy ${o.securityPolicy}: use None with None, or Sign/SignAndEncrypt with a policy such as Basic256Sha256`,
      });
    }
  })
  .describe('OPC UA control and status interface.');

const xmlPath = () => text('an element path, e.g. "ScanInfo/LicensePlate"');

/** Our sidecar fields that a vendor XML can fill (firmware-bridge/scanner/file-drop/sidecar.ts XML_FIELDS); any other key is rejected. */
export const xmlFields = z
  .strictObject({
    scanId: xmlPath().optional().describe('Element path of the scan id.'),
    time: xmlPath().optional().describe('Element path of the scan time (ISO 8601).'),
    pixelMm: xmlPath().optional().describe('Element path of the pixel pitch in mm.'),
    lineMm: xmlPath().optional().describe('Element path of the line pitch in mm (where it differs from pixelMm).'),
    lineRateHz: xmlPath()
      .optional()
      .describe(
        'Element path of the line rate in lines/s (with speedKmh, the line pitch under scanner.lineMm: speed).',
      ),
    speedKmh: xmlPath().optional().describe('Element path of the vehicle speed in km/h.'),
    plate: xmlPath().optional().describe('Element path of the licence plate.'),
    vehicle: xmlPath().optional().describe('Element path of the vehicle class.'),
    containerCode: xmlPath().optional().describe('Element path of the container code.'),
  })
  .describe(
    'Map from our sidecar field to an element path in the vendor XML, e.g. { plate: "ScanInfo/LicensePlate" }.',
  );

export const exportChain = z
  .union([
    z.literal('auto'),
    z.strictObject({
      scaling: z
        .enum(['linear', 'log'])
        .describe('linear: grey proportional to transmission; log: grey = 255 (1 + ln T / logMax).'),
      logMax: numIn(0.5, 20).optional().describe('log scaling: attenuation (-ln T) shown black. Default 8.'),
      window: z
        .tuple([numIn(0, 1), numIn(0, 1)])
        .refine(([lo, hi]) => lo < hi, 'window: lo must be below hi')
        .optional()
        .describe('[lo, hi] of the scaled value stretched to black..white. Default [0, 1].'),
      gamma: numIn(0.05, 10).optional().describe('Display gamma: grey = 255 v^(1/gamma). Default 1.'),
      invert: bool().optional().describe('Dense shown bright. Default false.'),
    }),
  ])
  .describe(
    "How 8-bit image files were exported: 'auto' (inferred from each image, as the model was trained) or the scanner's display chain.",
  );

export const fileDrop = z
  .strictObject({
    dir: text('a folder path').describe('Folder the scanner writes completed scans into.'),
    processedDir: text().optional().describe('Where taken scans are moved. Default: <dir>/processed.'),
    failedDir: text()
      .optional()
      .describe('Where unreadable scans are moved with a reason file. Default: <dir>/failed.'),
    stableMs: intIn(50, 600_000)
      .default(1000)
      .describe('A scan without sidecar is taken once its size has not changed for this long.'),
    maxSidecarBytes: intIn(1024, 16 << 20)
      .default(65_536)
      .describe(
        'Largest sidecar (JSON or XML) read, in bytes; a larger one fails the scan (moved to failed/ with the reason).',
      ),
    retentionDays: intIn(1, 3650)
      .default(30)
      .describe(
        'Files in processedDir and failedDir older than this many days are deleted (checked at start and hourly).',
      ),
    xmlFields: xmlFields
      .optional()
      .describe(
        'Map from our sidecar field (scanId, time, pixelMm, lineMm, lineRateHz, speedKmh, plate, vehicle, containerCode) to an element path in the vendor XML, e.g. { plate: "ScanInfo/LicensePlate" }.',
      ),
    export: exportChain
      .default('auto')
      .describe(
        "How the scanner exported 8-bit image files: 'auto' (default: the chain estimated from each image, logged with how sure it is) or its display chain { scaling, logMax, window, gamma, invert }; name it when known. 16-bit files: openBeam.",
      ),
    openBeam: wordsOr(['auto', 'full'], intIn(1000, 65535), 'an integer 1000-65535')
      .default('auto')
      .describe(
        "The level 16-bit image files read for open beam (air): 'auto' (default: the air plateau at the border, top rows and first and last lines, when it reads below 97 % of 65535; the file is then rescaled, with a note), 'full' (65535: read the file as it is) or the scanner's level, e.g. 60000.",
      ),
    lowEnergyScale: wordsOr(
      ['auto', 'none'],
      numIn(...LOW_ENERGY_SCALE_RANGE),
      `a number ${LOW_ENERGY_SCALE_RANGE.join('-')}`,
    )
      .default('auto')
      .describe(
        "Factor for the low-energy attenuation of dual-energy pairs: 'auto' (default: a 16-bit pair whose low/high ratio of the vehicle's steel lies outside the training scanner's 0.97-1.13 is rescaled to it, with a note), 'none' (read as it is) or the scanner's factor, e.g. 0.88, from checkpoint-edge analyze.",
      ),
  })
  .describe('Completed scans dropped into a folder as image files with a sidecar.');

export const scanner = z
  .strictObject({
    id: ident().default('scanner').describe('Name of this scanner in status messages.'),
    transport: lineTransport.optional().describe('Framed line stream (TCP or serial). Absent: no streaming.'),
    opcua: opcua.optional(),
    fileDrop: fileDrop.optional(),
    pixelMm: numIn(PIXEL_MM_RANGE.min, PIXEL_MM_RANGE.max)
      .default(5)
      .describe(
        'Pixel pitch at the vehicle in mm, used when the scanner does not send one: of the detector channels, and of the lines unless lineMm says otherwise.',
      ),
    lineMm: wordsOr(
      ['pixel', 'speed'],
      numIn(PIXEL_MM_RANGE.min, PIXEL_MM_RANGE.max),
      `a pitch in mm ${PIXEL_MM_RANGE.min}-${PIXEL_MM_RANGE.max}`,
    )
      .default('pixel')
      .describe(
        "How far apart the lines are along the scan. 'pixel' (default): as far apart as the channels (a scanner that resamples to square pixels, or whose line rate follows the vehicle). 'speed': each scan's vehicle speed divided by its line rate, from the scan-begin (line stream) or the sidecar's vehicle.speedKmh and lineRateHz (file drop); a scan without them, or whose line pitch from them lies outside 0.5-50 mm, is read as 'pixel', with a warning, and counted (checkpoint_edge_scanner_line_pitch_fallbacks_total). A number: a fixed line pitch in mm. A sidecar's lineMm overrides it. What a wrong line pitch costs: docs/inference.md.",
      ),
    scanTimeoutMs: intIn(100, 600_000)
      .default(5000)
      .describe('A scan with no line for this long is aborted with reason "timeout".'),
    lowEnergyScale: wordsOr(
      ['auto', 'none'],
      numIn(...LOW_ENERGY_SCALE_RANGE),
      `a number ${LOW_ENERGY_SCALE_RANGE.join('-')}`,
    )
      .default('auto')
      .describe(
        "Factor for the low-energy attenuation of streamed dual-energy scans (dropped files: fileDrop.lowEnergyScale). 'auto' (default): once the median low/high ratio of the vehicles' steel over the last 25 scans (at least 5, kept across restarts) lies outside the training scanner's 0.97-1.13, the next scans are rescaled to read 1.019. 'none': read as sent. A number: the scanner's factor.",
      ),
    reconnect: z
      .strictObject({
        initialMs: intIn(10, 60_000).default(250).describe('First reconnect delay.'),
        maxMs: intIn(100, 600_000)
          .default(10_000)
          .describe('Largest reconnect delay (exponential backoff with jitter).'),
      })
      .refine((r) => r.initialMs <= r.maxMs, { error: 'initialMs must not exceed maxMs' })
      .default({ initialMs: 250, maxMs: 10_000 })
      .describe(
        "Reconnect of the line-stream transport after a lost link, and pacing of the OPC UA client's connection attempts.",
      ),
    logFrames: bool().default(false).describe('Log every frame at debug level (very verbose).'),
  })
  .refine((s) => s.lowEnergyScale === 'auto' || s.transport !== undefined, {
    error:
      'lowEnergyScale applies to the line stream (scanner.transport), which this scanner does not have; for dropped files set scanner.fileDrop.lowEnergyScale',
    path: ['lowEnergyScale'],
  })
  .describe("The lane's X-ray scanner: line stream, OPC UA and/or file drop.");
