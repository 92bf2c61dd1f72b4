import { z } from 'zod';
import { ident, intIn, text, url, secret } from './fields.js';

export const camera = z
  .strictObject({
    id: ident().describe('Camera name, used in topics and evidence file names.'),
    role: z.enum(['front', 'rear', 'side', 'plate', 'overview']).describe('What the camera looks at.'),
    kind: z
      .enum(['mjpeg', 'snapshot', 'rtsp'])
      .describe('mjpeg: multipart HTTP stream; snapshot: JPEG URL polled; rtsp: read through ffmpeg.'),
    url: url(['http', 'https', 'rtsp', 'rtsps', 'file']).describe(
      'Stream or snapshot URL. Credentials: use ${ENV_VAR}.',
    ),
    pollMs: intIn(50, 60_000).default(500).describe('Snapshot polling interval (kind snapshot).'),
    stallMs: intIn(200, 600_000).default(5000).describe('No frame for this long: the watchdog restarts the source.'),
    preRollMs: intIn(0, 60_000)
      .default(2000)
      .describe('Frames kept before scan begin, for the picture of the vehicle entering.'),
    username: text().optional().describe('User name for the camera, if it needs one.'),
    password: secret().optional().describe('Use ${ENV_VAR}, never a literal.'),
  })
  .describe('One lane camera.');

export const cameras = z.array(camera).default([]).describe("The lane's IP cameras.");

const anprMqtt = z
  .strictObject({
    url: url(['mqtt', 'mqtts', 'ws', 'wss']).describe(
      "Broker the ANPR system publishes its reads to, e.g. mqtt://10.20.0.30:1883 (often the site's own broker, not central command's).",
    ),
    topic: text('an MQTT topic filter')
      .min(1)
      .describe(
        "Topic (filter) of this lane's reads, e.g. anpr/lane-1/read. Each message is one JSON read, as POST /api/anpr/<lane> takes it.",
      ),
    username: text().optional().describe('User name at that broker, if it needs one.'),
    password: secret().optional().describe('Use ${ENV_VAR}, never a literal.'),
    clientId: text().optional().describe('MQTT client id; default checkpoint-edge-anpr-<site>-<lane>.'),
  })
  .describe('Plate reads taken from an MQTT broker (QoS 1 subscription).');

export const anpr = z
  .strictObject({
    mqtt: anprMqtt
      .optional()
      .describe(
        "Also take this lane's plate reads from an MQTT topic. Absent: reads come only through POST /api/anpr/<lane>.",
      ),
    token: secret()
      .min(16, {
        error:
          'anpr.token must be at least 16 characters: use a long random secret, e.g. from `openssl rand -base64 24`',
      })
      .optional()
      .describe(
        'Shared secret the ANPR camera sends as "Authorization: Bearer <token>" with each read to POST /api/anpr/<lane>. Use ${ENV_VAR}, never a literal. Absent: reads are accepted only from this computer (loopback), and a warning says so at start.',
      ),
  })
  .default({})
  .describe("Plate reads pushed by the lane's ANPR camera.");
