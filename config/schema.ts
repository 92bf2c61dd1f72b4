import { z } from 'zod';
import { anpr, cameras } from './schema/cameras.js';
import { ident, intIn, secret, text } from './schema/fields.js';
import { model, thresholds } from './schema/model.js';
import { consoleCfg, evidence, http, mqtt } from './schema/outputs.js';
import { scanner } from './schema/scanner.js';
import { watchlist } from './schema/watchlist.js';
import { fusion, sensors } from './schema/sensors.js';

/** Most lanes one edge computer serves (docs/benchmarks.md: 4 lanes on 2 cores still decide in time). */
export const MAX_LANES = 4;

/** A lane's own MQTT identity, where the broker gives each lane its credentials and ACL. */
export const laneMqtt = z
  .strictObject({
    clientId: text()
      .optional()
      .describe(
        "This lane's MQTT client id. Default: mqtt.clientId suffixed with the lane id, else checkpoint-edge-<site>-<lane>.",
      ),
    username: text()
      .optional()
      .describe("This lane's broker user (use ${LANE1_MQTT_USERNAME}). Default: mqtt.username."),
    password: secret()
      .optional()
      .describe("This lane's broker password (use ${LANE1_MQTT_PASSWORD} or its _FILE). Default: mqtt.password."),
  })
  .describe(
    "The lane's identity at the broker, overriding the site's mqtt.clientId, username and password for this lane's connection.",
  );

export const lane = z
  .strictObject({
    id: ident().describe('Lane id, used in MQTT topics.'),
    name: text().optional().describe('Name shown to operators.'),
    scanner,
    cameras,
    anpr,
    model: model.optional().describe('Absent: detection is unavailable, and every scan says so.'),
    thresholds: thresholds.default({ region: 0.3, bodyEvidence: 'report', maxMissingShare: 0.05, maxMissingRunM: 0.5 }),
    sensors,
    fusion: fusion.default(fusion.parse({})),
    mqtt: laneMqtt.optional().describe("Absent: the lane connects with the site's mqtt identity."),
  })
  .describe('One checkpoint lane: a scanner, its cameras, its CO2 and heartbeat sensors, a model and thresholds.');

export const configSchema = z
  .strictObject({
    site: z
      .strictObject({
        id: ident().describe('Site id, used in MQTT topics.'),
        name: text().optional().describe('Name shown to operators and central command.'),
      })
      .describe('The checkpoint site this edge computer belongs to.'),
    dataDir: text().default('./var').describe('Folder for durable state: outbox, evidence, users, audit log.'),
    log: z
      .strictObject({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
          .default('info')
          .describe('Least severe level written.'),
        format: z
          .enum(['json', 'pretty'])
          .default('json')
          .describe('json: one object per line, for journald and log shippers; pretty: readable in a terminal.'),
        file: z
          .strictObject({
            path: text('a file path').describe(
              'The log file, e.g. /var/lib/checkpoint-edge/logs/checkpoint-edge.log (under systemd it must be in the data folder, the only writable one).',
            ),
            maxMb: z
              .number()
              .int()
              .min(1)
              .max(10_000)
              .default(50)
              .describe('A file is rotated before it grows beyond this.'),
            keep: z
              .number()
              .int()
              .min(0)
              .max(100)
              .default(5)
              .describe(
                'Rotated files kept (<path>.1 newest … <path>.<keep>); the logs take at most maxMb × (keep + 1).',
              ),
          })
          .optional()
          .describe(
            'Also write the log as JSON lines to a file, rotated by size. Absent: the journal (or the terminal) only.',
          ),
      })
      .default({ level: 'info', format: 'json' })
      .describe('Logging (pino). Secrets are never written.'),
    http: http.default({
      host: '127.0.0.1',
      port: 8080,
      healthDetails: false,
      trustedProxies: [],
      clientIpHeader: 'x-forwarded-for',
    }),
    shutdownTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(120_000)
      .default(10_000)
      .describe('Time allowed for an orderly shutdown.'),
    mqtt: mqtt.optional().describe('Absent: nothing is sent to central command (the lane status says so).'),
    console: consoleCfg.default({
      enabled: true,
      sessionTtlMinutes: 720,
      auditRetentionDays: 365,
      login: { perAddressPerMinute: 10, perMinute: 60, concurrentHashes: 2, queuedHashes: 16 },
    }),
    evidence,
    watchlist: watchlist.optional().describe('Absent: plates and container codes are not checked against watchlists.'),
    inference: z
      .strictObject({
        concurrentTiles: intIn(1, 16)
          .default(1)
          .describe(
            'Model tiles run at once over all lanes. Lanes take turns tile by tile, so a scan waits for at most one tile of each other lane; 1 suits a box with 2-4 cores (each tile gets every thread of its lane).',
          ),
      })
      .default({ concurrentTiles: 1 })
      .describe("How the lanes share the box's inference."),
    lanes: z
      .array(lane)
      .min(1, { error: 'expected at least one lane' })
      .max(MAX_LANES, {
        error: (iss) =>
          `expected at most ${MAX_LANES} lanes on one edge computer, got ${(iss.input as unknown[]).length}: run another edge computer for the other lanes`,
      })
      .describe(
        `The lanes of this site: 1 to ${MAX_LANES}, each with its own scanner, cameras, model session and MQTT connection.`,
      ),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.lanes.forEach((l, i) => {
      if (seen.has(l.id))
        ctx.addIssue({ code: 'custom', path: ['lanes', i, 'id'], message: `lane id "${l.id}" is used twice` });
      seen.add(l.id);
      const cams = new Set<string>();
      l.cameras.forEach((c, j) => {
        if (cams.has(c.id))
          ctx.addIssue({
            code: 'custom',
            path: ['lanes', i, 'cameras', j, 'id'],
            message: `camera id "${c.id}" is used twice in lane ${l.id}`,
          });
        cams.add(c.id);
      });
      const sens = new Set<string>();
      l.sensors.forEach((s, j) => {
        if (sens.has(s.id))
          ctx.addIssue({
            code: 'custom',
            path: ['lanes', i, 'sensors', j, 'id'],
            message: `sensor id "${s.id}" is used twice in lane ${l.id}`,
          });
        sens.add(s.id);
      });
      const clientId = l.mqtt?.clientId;
      if (clientId !== undefined) {
        const j = cfg.lanes.findIndex((o) => o !== l && o.mqtt?.clientId === clientId);
        if (j >= 0 && j < i)
          ctx.addIssue({
            code: 'custom',
            path: ['lanes', i, 'mqtt', 'clientId'],
            message: `lane ${l.id}: MQTT client id "${clientId}" is also lane ${cfg.lanes[j]!.id}'s; the broker would disconnect one whenever the other connects`,
          });
      }
      if (l.mqtt && !cfg.mqtt)
        ctx.addIssue({
          code: 'custom',
          path: ['lanes', i, 'mqtt'],
          message: `lane ${l.id}: lanes[].mqtt is set but the site has no mqtt section, so nothing would use it: add mqtt (url, topicPrefix) or remove lanes[].mqtt`,
        });
      if (!l.scanner.transport && !l.scanner.fileDrop) {
        ctx.addIssue({
          code: 'custom',
          path: ['lanes', i, 'scanner'],
          message: `lane ${l.id}: the scanner needs a transport or a fileDrop, or no scan can arrive`,
        });
      }
    });
  });

export type Config = z.infer<typeof configSchema>;
export type LaneConfig = z.infer<typeof lane>;
