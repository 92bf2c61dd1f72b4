import { z } from 'zod';
import { anpr, cameras } from './schema/cameras.js';
import { ident, text } from './schema/fields.js';
import { model, thresholds } from './schema/model.js';
import { consoleCfg, evidence, http, mqtt } from './schema/outputs.js';
import { scanner } from './schema/scanner.js';
import { watchlist } from './schema/watchlist.js';
import { fusion, sensors } from './schema/sensors.js';

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
    lanes: z.array(lane).min(1, { error: 'expected at least one lane' }).describe('The lanes of this site.'),
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
