import { isIP } from 'node:net';
import { z } from 'zod';
import { bool, ident, intIn, port, secret, shown, text, url } from './fields.js';

import { COMMAND_NAMES } from '../../core/mqtt-topics.js';

export const mqtt = z
  .strictObject({
    url: url(['mqtt', 'mqtts', 'ws', 'wss']).describe('Broker URL, e.g. mqtts://central.example:8883.'),
    protocolVersion: z.literal([4, 5]).default(5).describe('MQTT 3.1.1 (4) or 5.'),
    topicPrefix: text()
      // biome-ignore lint/suspicious/noControlCharactersInRegex: MQTT topic names may not contain U+0000
      .refine((v) => /^[^/+#$\u0000][^+#\u0000]*$/.test(v) && !v.endsWith('/') && !v.includes('//'), {
        error: (iss) =>
          `expected topic levels without wildcards (+, #), without a leading $ or /, a trailing / or an empty level, got ${JSON.stringify(iss.input)}`,
      })
      .default('checkpoint')
      .describe('First topic level(s), e.g. checkpoint or agency/checkpoint.'),
    clientId: text().optional().describe('Default: checkpoint-edge-<site>-<lane>, stable across restarts.'),
    username: text().optional().describe('Use ${MQTT_USERNAME}.'),
    password: secret().optional().describe('Use ${MQTT_PASSWORD} (or MQTT_PASSWORD_FILE).'),
    tls: z
      .strictObject({
        ca: text().optional().describe('CA certificate file (PEM).'),
        cert: text().optional().describe('Client certificate file (PEM).'),
        key: text().optional().describe('Client key file (PEM).'),
        rejectUnauthorized: bool()
          .default(true)
          .describe('Refuse a broker whose certificate does not verify against the CA.'),
      })
      .optional()
      .describe('TLS to the broker (mqtts:// or wss://).'),
    keepaliveS: intIn(5, 3600).default(30).describe('MQTT keepalive in seconds.'),
    reconnect: z
      .strictObject({
        initialMs: intIn(10, 60_000).default(500).describe('First reconnect delay.'),
        maxMs: intIn(100, 600_000).default(30_000).describe('Largest reconnect delay.'),
      })
      .refine((r) => r.initialMs <= r.maxMs, {
        error: (iss) =>
          `reconnect.initialMs must not exceed reconnect.maxMs, got ${(iss.input as { initialMs: number; maxMs: number }).initialMs} and ${(iss.input as { initialMs: number; maxMs: number }).maxMs}`,
      })
      .default({ initialMs: 500, maxMs: 30_000 })
      .describe('Exponential backoff with jitter between reconnects.'),
    outbox: z
      .strictObject({
        path: text().optional().describe('SQLite file. Default: <dataDir>/outbox.sqlite.'),
        maxMessages: intIn(100, 10_000_000)
          .default(100_000)
          .describe('Bound on queued messages per lane: scan results are evicted first, alerts last.'),
        synchronous: z
          .enum(['full', 'normal'])
          .default('full')
          .describe(
            'SQLite synchronous mode (WAL): full survives power loss as well as a killed process; normal survives a killed process only. See docs/mqtt.md.',
          ),
      })
      .default({ maxMessages: 100_000, synchronous: 'full' })
      .describe('Durable queue of scan results and alerts not yet acknowledged by the broker.'),
    delivery: z
      .strictObject({
        confirmBy: z
          .enum(['broker', 'central'])
          .default('broker')
          .describe(
            "What removes a message from the outbox: the broker's PUBACK (broker), or central command's receipt that it stored the message (central). Use central on a NATS JetStream network: nats-server 2.9 acknowledges a QoS 1 publish before any stream has stored it. See docs/mqtt.md.",
          ),
        receiptTimeoutS: intIn(2, 3600)
          .default(30)
          .describe(
            'confirmBy central: a message acknowledged by the broker but without a receipt after this long is sent again.',
          ),
      })
      .default({ confirmBy: 'broker', receiptTimeoutS: 30 })
      .describe('When a message counts as delivered to central command.'),
    evidenceBaseUrl: url(['http', 'https'])
      .optional()
      .describe(
        "Absolute base URL at which central command reaches this runtime's HTTP server, e.g. https://lane3.crossing.example:8080; evidence paths are appended. Default: the HTTP server's own address when it listens on a specific host.",
      ),
    sessionExpiryS: intIn(0, 4_294_967_295)
      .default(604_800)
      .describe(
        "MQTT 5 session expiry: the broker keeps the lane's session (command subscription, queued commands) this long while it is offline.",
      ),
    maxInflight: intIn(1, 1000)
      .default(20)
      .describe(
        "QoS 1 messages published and not yet acknowledged at one time (capped by the broker's Receive Maximum).",
      ),
    statusIntervalS: intIn(5, 3600)
      .default(60)
      .describe('The retained status is republished at least this often (outbox depth), and on every health change.'),
    sparkplug: z
      .strictObject({
        enabled: bool()
          .default(false)
          .describe(
            'Also publish each lane as a Sparkplug B edge node (spBv1.0 topics, NBIRTH/NDATA/NDEATH with bdSeq) on a second connection per lane.',
          ),
        groupId: ident().default('checkpoint').describe('Sparkplug group id.'),
        nodeId: ident()
          .optional()
          .describe('Sparkplug edge node id prefix. Default: <site>; the node of a lane is <nodeId>-<lane>.'),
      })
      .default({ enabled: false, groupId: 'checkpoint' })
      .describe(
        'Sparkplug B output for SCADA hosts: a state mirror of the lane; alerts are delivered durably on the JSON topics.',
      ),
    review: z
      .strictObject({
        verdicts: z
          .array(z.enum(['person', 'unavailable']))
          .default([])
          .describe(
            "Scans with these verdicts are sent to central command's remote review (the scan message carries review.reason).",
          ),
        clearShare: z
          .number()
          .min(0, { error: 'expected a share 0-1' })
          .max(1, { error: 'expected a share 0-1' })
          .default(0)
          .describe(
            'Share of clear scans sent to remote review for quality control (0.05 = one in twenty, drawn at random).',
          ),
      })
      .default({ verdicts: [], clearShare: 0 })
      .describe(
        "Remote review at central command: which scans to send; the analyst's decision comes back as cmd/review-decision and is shown on the console.",
      ),
    commands: z
      .strictObject({
        identities: z
          .array(
            z.strictObject({
              name: text()
                .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, {
                  error: (iss) => `expected a name (letters, digits, . _ - @, at most 64), got ${shown(iss.input)}`,
                })
                .describe(
                  'The identity recorded as acting (alert events, audit log), e.g. the broker account of central command.',
                ),
              commands: z
                .array(z.enum(COMMAND_NAMES))
                .default([...COMMAND_NAMES])
                .describe('Commands it may send. Default: all.'),
            }),
          )
          .default([])
          .superRefine((ids, ctx) => {
            const seen = new Set<string>();
            ids.forEach((i, n) => {
              if (seen.has(i.name))
                ctx.addIssue({
                  code: 'custom',
                  path: [n, 'name'],
                  message: `central identity "${i.name}" is listed twice`,
                });
              seen.add(i.name);
            });
          })
          .describe(
            'Central-command identities allowed to send commands; none (the default): every command is refused. A command names its identity in the MQTT 5 user property central-identity; without it, the only identity listed is meant (several listed: refused). The lane cannot see who published a message: only the broker ACL (write access to <prefix>/<site>/<lane>/cmd/#) makes this an identity. See docs/mqtt.md.',
          ),
        allowedOperators: z
          .array(text())
          .optional()
          .describe(
            'If set, only these names may be given as the person central command acts for (the operator field of a command).',
          ),
      })
      .default({ identities: [] })
      .describe('Commands from central command (cmd topics).'),
  })
  .describe('Connection to central command.');

export const consoleCfg = z
  .strictObject({
    enabled: bool().default(true).describe('Serve the operator console.'),
    sessionTtlMinutes: intIn(1, 24 * 60)
      .default(12 * 60)
      .describe('Log-in sessions expire after this long.'),
    usersFile: text()
      .optional()
      .describe('JSON file of users (name, role, scrypt hash). Default: <dataDir>/users.json.'),
    auditRetentionDays: intIn(30, 3650)
      .default(365)
      .describe('Audit log entries older than this are deleted (checked every 6 hours).'),
    login: z
      .strictObject({
        perAddressPerMinute: intIn(1, 10_000)
          .default(10)
          .describe(
            'Log-in attempts one client address may make per minute (a burst of this many, then one every 60/n s); further ones are refused (429) before the password is checked.',
          ),
        perMinute: intIn(1, 100_000)
          .default(60)
          .describe(
            'Log-in attempts the whole console accepts per minute, from all addresses together (password spraying from many addresses).',
          ),
        concurrentHashes: intIn(1, 16)
          .default(2)
          .describe("Password checks (scrypt, 32 MiB each) run at once; they share libuv's thread pool with file I/O."),
        queuedHashes: intIn(0, 1000)
          .default(16)
          .describe('Password checks waiting for a slot; further log-ins are refused (503) at once.'),
      })
      .default({ perAddressPerMinute: 10, perMinute: 60, concurrentHashes: 2, queuedHashes: 16 })
      .describe(
        'Limits on log-in attempts, checked before any password is hashed. Refused attempts are audited as one row per burst.',
      ),
  })
  .describe('Operator web console, served on the runtime HTTP port.');

export const http = z
  .strictObject({
    host: text()
      .default('127.0.0.1')
      .describe('Address of the runtime HTTP server (console, /healthz, /metrics, evidence).'),
    port: intIn(0, 65535).default(8080).describe('TCP port; 0 picks a free one.'),
    healthDetails: bool()
      .default(false)
      .describe(
        "Show every device's detail (which can name internal URLs and file paths) on /healthz to callers who are not logged in to the console. Off: they get each lane's state, its one-line reason and each device's state. See docs/monitoring.md.",
      ),
    allowedHosts: z
      .array(text().min(1, { error: 'expected a host name, got ""' }))
      .min(1, { error: 'expected at least one host name' })
      .optional()
      .describe(
        'Host names (or addresses) by which browsers and central command reach this server; a request whose Host header names another is refused (421), which stops DNS rebinding. Default: localhost, 127.0.0.1, ::1, the bind address (http.host, unless 0.0.0.0 or ::) and the host of mqtt.evidenceBaseUrl. Set it when operators reach the lane by name or by its LAN address.',
      ),
    trustedProxies: z
      .array(
        text().refine((v) => isIP(v.trim()) !== 0, {
          error: (iss) => `expected an IP address, got ${shown(iss.input)}`,
        }),
      )
      .default([])
      .describe(
        'Addresses of the reverse proxies (TLS) in front of this server. Only for requests from these is the client address taken from http.clientIpHeader (log-in limits, audit); from anyone else the header is ignored.',
      ),
    clientIpHeader: text()
      .regex(/^[A-Za-z0-9-]+$/, { error: (iss) => `expected a header name, got ${shown(iss.input)}` })
      .default('x-forwarded-for')
      .describe(
        'Header in which the trusted proxies give the client address (x-forwarded-for: the right-most address that is not a trusted proxy).',
      ),
  })
  .describe('Runtime HTTP server.');

export const evidence = z
  .strictObject({
    dir: text().optional().describe('Default: <dataDir>/evidence.'),
    retentionDays: intIn(1, 3650).default(30).describe('Evidence older than this is deleted.'),
    maxMb: intIn(10, 10_000_000).default(20_000).describe('Oldest evidence is deleted first above this size.'),
    linkTtlHours: intIn(1, 87_600)
      .optional()
      .describe(
        'Lifetime of the signed evidence links sent to central command (/evidence/<scanId>/<name>?exp=&sig=). Default: retentionDays, so that a link works as long as its file is kept.',
      ),
  })
  .default({ retentionDays: 30, maxMb: 20_000 })
  .describe(
    'Evidence pictures (scan with regions, camera snapshots) kept on disk and served to the console and central command.',
  );

export { port };
