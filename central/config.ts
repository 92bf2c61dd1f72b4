import { z } from 'zod';
import { ConfigError, loadYamlWith, validateWith } from '../config/load.js';
import { bool, ident, intIn, secret, shown, text, url } from '../config/schema/fields.js';

/**
 * The central command centre's configuration (`checkpoint-edge central serve --config central.yaml`):
 * one strict schema, unknown keys refused, every field with a default where one makes sense.
 * Reference: docs/central.md.
 */

/**
 * A site or lane id as it appears in topics. nats-server 2.9 maps each MQTT topic level to a
 * subject token, so a dot would split it and a space is not allowed: such ids are refused here,
 * whichever broker is used, so that a site can move onto a NATS network unchanged.
 */
const topicId = () =>
  z
    .string({ error: (iss) => `expected an identifier, got ${shown(iss.input)}` })
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, {
      error: (iss) =>
        `expected an identifier (letters, digits, - and _, at most 64; no dots or spaces, which nats-server cannot carry in a topic level), got ${shown(iss.input)}`,
    });

const storeSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('pglite').describe('Embedded PostgreSQL (PGlite, in WASM): no server to run; one process only.'),
    dir: text('a folder')
      .optional()
      .describe('Folder of the database; default <dataDir>/central-db. Absent with memory: true.'),
    memory: bool().default(false).describe('Keep the database in memory (tests, throw-away demos).'),
  }),
  z.strictObject({
    kind: z.literal('postgres').describe('PostgreSQL server (production, several central workers).'),
    url: text('a postgres:// URL').describe(
      'Connection string, e.g. postgres://central:${PGPASSWORD}@db.example:5432/central.',
    ),
    poolSize: intIn(1, 100).default(10),
  }),
]);

const mqttIngestSchema = z.strictObject({
  kind: z.literal('mqtt').describe('One site: subscribe to its MQTT broker (mosquitto).'),
  url: url(['mqtt', 'mqtts', 'ws', 'wss']),
  protocolVersion: z.literal([4, 5]).default(5),
  clientId: text()
    .default('checkpoint-central')
    .describe('Stable client id: the broker keeps the session (and queues QoS 1 messages) while central is down.'),
  username: text().optional(),
  password: secret().optional(),
});

const natsIngestSchema = z.strictObject({
  kind: z
    .literal('nats')
    .describe(
      'A network: lanes publish over the nats-server MQTT listener; central workers consume a JetStream stream through one durable consumer.',
    ),
  servers: z
    .array(text('a nats:// address'))
    .min(1)
    .describe('NATS servers of the cluster (any subset; the client learns the others).'),
  mqttUrl: url(['mqtt', 'mqtts']).describe(
    "MQTT listener through which commands are published to the lanes at QoS 1 (the lanes' own listener).",
  ),
  stream: ident()
    .default('CHECKPOINT')
    .describe("JetStream stream holding the lanes' messages; created or updated at start."),
  durable: ident().default('central').describe('Durable pull consumer shared by every central worker.'),
  replicas: intIn(1, 5).default(3).describe('Stream replicas (3 on a 3-node cluster).'),
  maxAgeHours: intIn(1, 24 * 365)
    .default(24 * 7)
    .describe('Messages are kept this long in the stream (the store keeps them for good).'),
  ackWaitS: intIn(1, 600)
    .default(30)
    .describe('A message not acknowledged within this time (a worker died) is redelivered to another worker.'),
  maxAckPending: intIn(1, 100_000).default(2000),
  batch: intIn(1, 1000).default(100).describe('Messages fetched per pull.'),
  concurrency: intIn(1, 256).default(16).describe('Messages a worker stores at once (each in its own transaction).'),
  username: text().optional(),
  password: secret().optional(),
});

export const centralConfigSchema = z
  .strictObject({
    dataDir: text('a folder').default('./central-data'),
    topicPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, {
        error: (iss) =>
          `expected one topic level of letters, digits, - and _ (no dots, spaces or slashes), got ${shown(iss.input)}`,
      })
      .default('checkpoint'),
    http: z
      .strictObject({ host: text().default('127.0.0.1'), port: intIn(0, 65535).default(8090) })
      .default({ host: '127.0.0.1', port: 8090 }),
    store: storeSchema.default({ kind: 'pglite', memory: false }),
    ingest: z.discriminatedUnion('kind', [mqttIngestSchema, natsIngestSchema]),
    sites: z
      .array(
        z.strictObject({
          id: topicId(),
          name: text().optional(),
          lanes: z.array(z.strictObject({ id: topicId(), name: text().optional() })).default([]),
        }),
      )
      .default([])
      .describe(
        'Known sites and lanes: shown before they first report. Lanes that report without being listed are added.',
      ),
    review: z
      .strictObject({
        escalateAfterS: intIn(5, 24 * 3600)
          .default(120)
          .describe('A review not taken within this time is escalated to supervisors.'),
        workLimitMinutes: intIn(1, 240)
          .default(20)
          .describe('An analyst reviews at most this long without a break (screening practice: 20 minutes).'),
        breakMinutes: intIn(1, 240).default(10).describe('Length of the break that resets the work time.'),
      })
      .default({ escalateAfterS: 120, workLimitMinutes: 20, breakMinutes: 10 }),
    accounts: z
      .strictObject({
        sessionTtlMinutes: intIn(1, 24 * 60).default(8 * 60),
        bootstrapAdmin: z
          .strictObject({
            name: ident(),
            password: secret().min(10, { error: 'the first admin password must have at least 10 characters' }),
          })
          .optional()
          .describe('Created at start when no account exists yet; use ${CENTRAL_ADMIN_PASSWORD}.'),
      })
      .default({ sessionTtlMinutes: 480 }),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
        format: z.enum(['json', 'pretty']).default('json'),
      })
      .default({ level: 'info', format: 'json' }),
    shutdownTimeoutMs: intIn(1000, 120_000).default(10_000),
    commands: z
      .strictObject({
        identity: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, {
            error: (iss) => `expected a name (letters, digits, . _ - @, at most 64), got ${shown(iss.input)}`,
          })
          .optional()
          .describe(
            "The central identity named in every command to a lane (MQTT 5 user property central-identity): one of the lanes' mqtt.commands.identities, recorded as acting. Needed where a lane lists several. MQTT 5 only: lanes on a NATS network (MQTT 3.1.1) list exactly one.",
          ),
      })
      .default({})
      .describe('Commands to the lanes (acknowledgements, dispositions, review decisions).'),
    watchlist: z
      .strictObject({
        keyId: ident().describe('The key id the lanes know this key by (their watchlist.keys[].keyId).'),
        privateKey: text()
          .min(1)
          .describe(
            'Ed25519 private key file (PEM) made by `checkpoint-edge watchlist keygen`; keep it readable by central only.',
          ),
      })
      .optional()
      .describe(
        'Signing of the watchlists central publishes (docs/watchlists.md). Absent: lists can be edited, not published.',
      ),
  })
  .superRefine((c, ctx) => {
    if (c.commands.identity !== undefined && (c.ingest.kind === 'nats' || c.ingest.protocolVersion === 4))
      ctx.addIssue({
        code: 'custom',
        path: ['commands', 'identity'],
        message: `a central identity is sent as an MQTT 5 user property, and commands here go over MQTT 3.1.1 (${c.ingest.kind === 'nats' ? 'the nats-server MQTT listener' : 'ingest.protocolVersion 4'}): remove it and list exactly one identity in each lane's mqtt.commands.identities`,
      });
    const seen = new Set<string>();
    c.sites.forEach((s, i) => {
      if (seen.has(s.id))
        ctx.addIssue({ code: 'custom', path: ['sites', i, 'id'], message: `site id "${s.id}" is listed twice` });
      seen.add(s.id);
      const lanes = new Set<string>();
      s.lanes.forEach((l, j) => {
        if (lanes.has(l.id))
          ctx.addIssue({
            code: 'custom',
            path: ['sites', i, 'lanes', j, 'id'],
            message: `lane id "${l.id}" is listed twice in site ${s.id}`,
          });
        lanes.add(l.id);
      });
    });
  });

export type CentralConfig = z.infer<typeof centralConfigSchema>;
export type StoreConfig = CentralConfig['store'];
export type IngestConfig = CentralConfig['ingest'];

/**
 * Validates a config object as the lane's config is validated (config/load.ts: `${VAR}` substituted from
 * `env`, paths, "did you mean"); throws one error listing every problem with its path.
 */
export function parseCentralConfig(
  raw: unknown,
  source = 'central config',
  env: NodeJS.ProcessEnv = process.env,
): CentralConfig {
  try {
    return validateWith(centralConfigSchema, raw, source, env);
  } catch (err) {
    throw invalid(source, err);
  }
}

/** Reads a YAML config file, substituting `${ENV}` (or `${ENV}_FILE`) references; every problem with its line. */
export async function loadCentralConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<CentralConfig> {
  try {
    return loadYamlWith(centralConfigSchema, file, env);
  } catch (err) {
    throw invalid(`central config ${file}`, err);
  }
}

/** `central config F is invalid:` and one indented line per problem; a file that cannot be read or parsed on one line. */
function invalid(source: string, err: unknown): Error {
  if (!(err instanceof ConfigError)) return err as Error;
  const only = err.problems.length === 1 && !err.problems[0]!.path ? err.problems[0]!.message : null;
  const text = only
    ? `${source}: ${only}`
    : `${source} is invalid:\n${err
        .lines()
        .map((l) => `  ${l}`)
        .join('\n')}`;
  return new Error(text, { cause: err });
}
