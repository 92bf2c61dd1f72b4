import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { CentralClient } from '../../outputs/mqtt/central-client.js';
import { clock } from '../../outputs/mqtt/central-format.js';
import type { CommandResponse } from '../../core/mqtt-payloads.js';
import { DISPOSITIONS } from '../../core/domain.js';
import { EXIT, numberOption, parseCommandArgs, UsageError, type CliCommand } from '../../core/command-line.js';

const usage = `Usage: checkpoint-edge central --mqtt-url <url> [options] [command]

The reference central-command client. Without a command it watches: it subscribes to every
site and lane (or --site), and prints one line per alert, acknowledgement or disposition,
availability change and lane health change (and per scan with --scans), until Ctrl-C.
Alerts and events are de-duplicated on their messageId. While watching, type a command:

  ack [<site>/<lane>] <alertId> [note...]
  dispose [<site>/<lane>] <alertId> <person-found|cleared-after-search|false-alarm> [note...]
  status <site>/<lane>
  test-alert <site>/<lane> [message...]
  help | quit

(the lane may be left out for an alert this client has printed).

With a command, it sends that command, prints the lane's response and exits: 0 when the lane
answered ok, 1 when it answered with an error or did not answer within --timeout-ms.

  central ack <alertId> --site <site> --lane <lane> [--operator <name>] [--note <text>]
  central disposition <alertId> <disposition> --site <site> --lane <lane> [--operator <name>] [--note <text>]
  central status --site <site> --lane <lane>
  central test-alert --site <site> --lane <lane> [--operator <name>] [--note <message>]

Options:
  --mqtt-url <url>     the broker: mqtt://, mqtts://, ws:// or wss:// (required)
  --prefix <prefix>    first topic level (default checkpoint; the lanes' mqtt.topicPrefix)
  --site <id>          watch only this site; the site of a command
  --lane <id>          the lane of a command
  --operator <name>    the person central acts for (default: the login name); the lane records
                       it as onBehalfOf, the acting identity is the central identity
  --identity <name>    MQTT 5: the central identity to send commands under (user property
                       central-identity); needed when a lane lists several in
                       mqtt.commands.identities
  --note <text>        note of an ack or disposition; message of a test alert
  --protocol <4|5>     MQTT 3.1.1 (4) or 5 (default 5)
  --client-id <id>     use a persistent session under this id: the broker keeps alerts for this
                       client while it is away (default: a fresh id, nothing kept)
  --username <name>    broker user; the password is read from MQTT_PASSWORD (or the file named
                       by MQTT_PASSWORD_FILE), never from the command line
  --ca <file>          CA certificate (PEM) for mqtts/wss
  --cert <file>        client certificate (PEM)
  --key <file>         client key (PEM)
  --scans              also print every scan result
  --timeout-ms <ms>    how long a command waits for its response (default 10000)
  --help               show this help

Topics and payloads: docs/mqtt.md.`;

const cmd: CliCommand = {
  name: 'central',
  summary: 'reference central-command client',
  usage,
  async run(argv) {
    const args = parseCommandArgs(
      cmd,
      argv,
      {
        'mqtt-url': { type: 'string' },
        prefix: { type: 'string' },
        site: { type: 'string' },
        lane: { type: 'string' },
        operator: { type: 'string' },
        identity: { type: 'string' },
        note: { type: 'string' },
        protocol: { type: 'string' },
        'client-id': { type: 'string' },
        username: { type: 'string' },
        ca: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        scans: { type: 'boolean' },
        'timeout-ms': { type: 'string' },
      },
      true,
    );
    if (!args) return EXIT.ok;
    const v = args.values;
    const url = v['mqtt-url'];
    if (!url)
      throw new UsageError(`central: --mqtt-url <url> is required\nRun 'checkpoint-edge central --help' for usage.`);
    if (v.protocol !== undefined && v.protocol !== '4' && v.protocol !== '5')
      throw new UsageError(`central: --protocol expects 4 (MQTT 3.1.1) or 5, got "${v.protocol}"`);
    const timeoutMs = numberOption('central', 'timeout-ms', v['timeout-ms'], { min: 100, max: 3_600_000 }) ?? 10_000;
    const file = (what: string, path: string | undefined) => {
      if (!path) return undefined;
      try {
        return readFileSync(path);
      } catch (err) {
        throw new UsageError(
          `central: --${what} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        );
      }
    };
    const password =
      process.env.MQTT_PASSWORD ??
      (process.env.MQTT_PASSWORD_FILE ? readFileSync(process.env.MQTT_PASSWORD_FILE, 'utf8').trim() : undefined);
    const operator = v.operator ?? safeUser();
    const say = (line: string) => process.stdout.write(`${line}\n`);
    const [command, ...rest] = args.positionals;
    const client = new CentralClient({
      url,
      prefix: v.prefix ?? 'checkpoint',
      ...(v.site ? { siteId: v.site } : {}),
      protocolVersion: v.protocol === '4' ? 4 : 5,
      ...(v['client-id'] ? { clientId: v['client-id'] } : {}),
      ...(v.username ? { username: v.username } : {}),
      ...(v.identity ? { identity: v.identity } : {}),
      ...(password !== undefined ? { password } : {}),
      ca: file('ca', v.ca),
      ...(v.ca ? { caFile: v.ca } : {}),
      cert: file('cert', v.cert),
      key: file('key', v.key),
      scans: Boolean(v.scans),
      print: say,
    });

    const connect = async (watch: boolean): Promise<boolean> => {
      try {
        await client.connect(watch);
        return true;
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        return false;
      }
    };
    if (command) {
      const request = oneShot(command, rest, { site: v.site, lane: v.lane, operator, note: v.note });
      if (!(await connect(false))) return EXIT.failure;
      try {
        const r = await client.send(request.site, request.lane, request.name, request.body, timeoutMs);
        say(describeResponse(request.name, r));
        return r.status === 'ok' ? EXIT.ok : EXIT.failure;
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        return EXIT.failure;
      } finally {
        await client.close();
      }
    }

    if (!(await connect(true))) return EXIT.failure;
    say(
      `${clock()} central: watching ${v.prefix ?? 'checkpoint'}/${v.site ?? '+'}/+/... on ${url} as operator ${operator}; type help for commands`,
    );
    return new Promise<number>((resolve) => {
      let stopping = false;
      // Holds the event loop open for the whole watch, whatever the broker link and stdin do.
      const watching = setInterval(() => {}, 3_600_000);
      const rl = createInterface({ input: process.stdin, terminal: false });
      // stdin at its end (run from a service, or with </dev/null) does not stop the watch: only
      // quit, Ctrl-C or SIGTERM do. The MQTT client's reconnect timer keeps the process alive.
      rl.once('close', () => {
        if (!stopping)
          say(
            `${clock()} central: no more commands can be typed (stdin closed); still watching, stop with Ctrl-C or SIGTERM`,
          );
      });
      const finish = async () => {
        if (stopping) return;
        stopping = true;
        clearInterval(watching);
        rl.close();
        process.stdin.destroy(); // or the open pipe keeps the process alive
        await client.close();
        resolve(EXIT.ok);
      };
      process.once('SIGINT', () => void finish());
      process.once('SIGTERM', () => void finish());
      rl.on('line', (line) => {
        const words = line.trim().split(/\s+/).filter(Boolean);
        if (words.length === 0) return;
        if (words[0] === 'quit' || words[0] === 'exit') return void finish();
        if (words[0] === 'help') return say(INTERACTIVE_HELP);
        let request: Request;
        try {
          request = interactive(words, client.alerts, operator);
        } catch (err) {
          return say(`${clock()} central: ${(err as Error).message}`);
        }
        client.send(request.site, request.lane, request.name, request.body, timeoutMs).then(
          (r) => {
            if (request.name === 'status') say(`${clock()} ${describeResponse('status', r)}`);
          },
          (err: Error) => say(`${clock()} ${err.message}`),
        );
      });
    });
  },
};
export default cmd;

const INTERACTIVE_HELP = `commands:
  ack [<site>/<lane>] <alertId> [note...]
  dispose [<site>/<lane>] <alertId> <${DISPOSITIONS.join('|')}> [note...]
  status <site>/<lane>
  test-alert <site>/<lane> [message...]
  quit`;

interface Request {
  site: string;
  lane: string;
  name: string;
  body: Record<string, unknown>;
}

function safeUser(): string {
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return 'central';
  }
}

function oneShot(
  command: string,
  rest: string[],
  o: { site?: string; lane?: string; operator: string; note?: string },
): Request {
  if (!o.site || !o.lane) throw new UsageError(`central ${command}: --site and --lane are required`);
  const note = o.note !== undefined ? { note: o.note } : {};
  const base = { site: o.site, lane: o.lane };
  switch (command) {
    case 'ack':
      if (rest.length !== 1)
        throw new UsageError('central ack: expected one alert id: central ack <alertId> --site <site> --lane <lane>');
      return { ...base, name: 'ack', body: { alertId: rest[0], operator: o.operator, ...note } };
    case 'disposition':
    case 'dispose':
      if (rest.length !== 2 || !DISPOSITIONS.includes(rest[1] as never))
        throw new UsageError(`central disposition: expected <alertId> <${DISPOSITIONS.join('|')}>`);
      return {
        ...base,
        name: 'disposition',
        body: { alertId: rest[0], disposition: rest[1], operator: o.operator, ...note },
      };
    case 'status':
      return { ...base, name: 'status', body: {} };
    case 'test-alert':
      return {
        ...base,
        name: 'test-alert',
        body: { operator: o.operator, ...(o.note !== undefined ? { message: o.note } : {}) },
      };
    default:
      throw new UsageError(
        `central: unknown command "${command}" (ack, disposition, status, test-alert)\nRun 'checkpoint-edge central --help' for usage.`,
      );
  }
}

/** Parses a line typed while watching. */
export function interactive(
  words: string[],
  alerts: Map<string, { siteId: string; laneId: string }>,
  operator: string,
): Request {
  const [verb, ...args] = words;
  const target = (w: string | undefined) => {
    const m = w ? /^([^/\s]+)\/([^/\s]+)$/.exec(w) : null;
    return m ? { site: m[1], lane: m[2] } : null;
  };
  const forAlert = () => {
    const explicit = target(args[0]);
    if (explicit) args.shift();
    const alertId = args.shift();
    if (!alertId) throw new Error(`${verb}: which alert? (${verb} [<site>/<lane>] <alertId> ...)`);
    const known =
      explicit ??
      (alerts.has(alertId) ? { site: alerts.get(alertId)!.siteId, lane: alerts.get(alertId)!.laneId } : null);
    if (!known)
      throw new Error(
        `${verb}: alert ${alertId} has not been seen by this client: give its lane as ${verb} <site>/<lane> ${alertId}`,
      );
    return { ...known, alertId };
  };
  switch (verb) {
    case 'ack': {
      const a = forAlert();
      const note = args.join(' ');
      return {
        site: a.site,
        lane: a.lane,
        name: 'ack',
        body: { alertId: a.alertId, operator, ...(note ? { note } : {}) },
      };
    }
    case 'dispose':
    case 'disposition': {
      const a = forAlert();
      const disposition = args.shift();
      if (!disposition || !DISPOSITIONS.includes(disposition as never))
        throw new Error(`${verb}: expected one of ${DISPOSITIONS.join(', ')} after the alert id`);
      const note = args.join(' ');
      return {
        site: a.site,
        lane: a.lane,
        name: 'disposition',
        body: { alertId: a.alertId, disposition, operator, ...(note ? { note } : {}) },
      };
    }
    case 'status': {
      const t = target(args[0]);
      if (!t) throw new Error('status: expected <site>/<lane>');
      return { ...t, name: 'status', body: {} };
    }
    case 'test-alert': {
      const t = target(args[0]);
      if (!t) throw new Error('test-alert: expected <site>/<lane> [message]');
      const message = args.slice(1).join(' ');
      return { ...t, name: 'test-alert', body: { operator, ...(message ? { message } : {}) } };
    }
    default:
      throw new Error(`unknown command "${verb}"; type help`);
  }
}

function describeResponse(name: string, r: CommandResponse): string {
  if (r.status === 'error') return `${r.siteId}/${r.laneId} ${name}: ERROR: ${r.error}`;
  return `${r.siteId}/${r.laneId} ${name}: ok ${JSON.stringify(r.data)}`;
}
