import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  envReferences,
  isSecretAt,
  isSettingAt,
  loadConfig,
  validateConfig,
} from '../../../config/load.js';
import { configSchema } from '../../../config/schema.js';
import { nearest, urlProblem } from '../../../config/schema/fields.js';
import { configJsonSchema } from '../../../config/json-schema.js';
import { xmlFields } from '../../../config/schema/scanner.js';
import { XML_FIELDS } from '../../../firmware-bridge/scanner/file-drop/sidecar.js';

// biome-ignore lint/suspicious/noExplicitAny: raw configs and the JSON Schema are walked and edited by hand
type Json = Record<string, any>;

const EXAMPLES = join(import.meta.dirname, '../../../config/examples');
const ENV = {
  MQTT_USERNAME: 'lane',
  MQTT_PASSWORD: 's3cret',
  OPCUA_USERNAME: 'op',
  OPCUA_PASSWORD: 'pw',
  CAM_USER: 'cam',
  CAM_PASSWORD: 'campw',
  LANE3_MQTT_USERNAME: 'lane-3',
  LANE3_MQTT_PASSWORD: 'pw3',
  LANE4_MQTT_USERNAME: 'lane-4',
  LANE4_MQTT_PASSWORD: 'pw4',
};

const minimal = () => ({
  site: { id: 'site-a' },
  lanes: [{ id: 'lane-1', scanner: { transport: { type: 'tcp', port: 4001 } } }],
});

/** The problem lines of a YAML file with this text, as validate-config prints them. */
function fileProblems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  const f = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'site.yaml');
  writeFileSync(f, text);
  try {
    loadConfig(f, env);
  } catch (err) {
    return (err as ConfigError).lines();
  }
  return [];
}

function problems(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    validateConfig(raw, 'test.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).lines();
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('accepts every example in config/examples', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const cfg = loadConfig(join(EXAMPLES, f), ENV);
      expect(cfg.lanes.length).toBeGreaterThan(0);
    }
  });

  it('fills defaults for every optional field', () => {
    const cfg = validateConfig(minimal(), 'x', {});
    expect(cfg.http).toEqual({
      host: '127.0.0.1',
      port: 8080,
      trustedProxies: [],
      clientIpHeader: 'x-forwarded-for',
      healthDetails: false,
    });
    expect(cfg.console.login).toEqual({
      perAddressPerMinute: 10,
      perMinute: 60,
      concurrentHashes: 2,
      queuedHashes: 16,
    });
    expect(cfg.mqtt).toBeUndefined();
    expect(cfg.lanes[0].scanner.transport).toEqual({ type: 'tcp', host: '127.0.0.1', port: 4001 });
    expect(cfg.lanes[0].thresholds).toEqual({
      region: 0.3,
      bodyEvidence: 'report',
      maxMissingShare: 0.05,
      maxMissingRunM: 0.5,
    }); // alert: the model's operating point
    expect(cfg.lanes[0].cameras).toEqual([]);
  });

  it('names the path and what is expected for a wrong type', () => {
    const raw = minimal();
    (raw.lanes[0].scanner.transport as Record<string, unknown>).port = 'abc';
    expect(problems(raw)).toEqual(['lanes[0].scanner.transport.port: expected an integer 1-65535, got "abc"']);
  });

  it("takes thresholds.alert as a number or 'held-out', and names both when it is neither (as for every word-or-number key)", () => {
    const raw = minimal() as { lanes: { thresholds?: Record<string, unknown> }[] };
    raw.lanes[0].thresholds = { alert: 'held-out' };
    expect(validateConfig(raw, 'test.yaml', {}).lanes[0].thresholds.alert).toBe('held-out');
    raw.lanes[0].thresholds = { alert: 0.7 };
    expect(validateConfig(raw, 'test.yaml', {}).lanes[0].thresholds.alert).toBe(0.7);
    raw.lanes[0].thresholds = { alert: 'high' };
    expect(problems(raw)).toEqual([`lanes[0].thresholds.alert: expected 'held-out' or a number 0-1, got "high"`]);
    raw.lanes[0].thresholds = { alert: 1.5 };
    expect(problems(raw)).toEqual(['lanes[0].thresholds.alert: expected a number 0-1, got 1.5']);
    const scanner = minimal() as { lanes: { scanner: Record<string, unknown> }[] };
    scanner.lanes[0].scanner.lowEnergyScale = 'off';
    expect(problems(scanner)).toEqual([
      `lanes[0].scanner.lowEnergyScale: expected 'auto', 'none' or a number 0.5-2, got "off"`,
    ]);
  });

  it('rejects numbers out of range', () => {
    const raw = minimal();
    raw.lanes[0].scanner.transport.port = 70000;
    expect(problems(raw)).toEqual(['lanes[0].scanner.transport.port: expected an integer 1-65535, got 70000']);
  });

  it('rejects unknown keys, at every level, naming them', () => {
    const raw = { ...minimal(), colour: 'red', lanes: [{ ...minimal().lanes[0], scaner: {} }] };
    expect(problems(raw).sort()).toEqual([
      expect.stringMatching(/^colour: unknown key "colour" \(known here: site, dataDir, /),
      'lanes[0].scaner: unknown key "scaner"; did you mean "scanner"?',
    ]);
  });

  it('suggests the key meant, and gives the line of each problem in a file', () => {
    const lines = fileProblems(
      'site: { id: s }\nmqtt:\n  url: mqtts://localhost:mqtts\nlanes:\n  - id: lane-1\n    scanner:\n      scanTimeoutMS: 5000\n      transport: { type: tcp, host: 127.0.0.1, port: 4001 }\n',
    );
    expect(lines).toEqual([
      'mqtt.url (line 3): the port "mqtts" in "mqtts://localhost:mqtts" is not a number 1-65535 (mqtts is usually 8883: mqtts://localhost:8883)',
      'lanes[0].scanner.scanTimeoutMS (line 7): unknown key "scanTimeoutMS"; did you mean "scanTimeoutMs"?',
    ]);
  });

  it('reads an empty file as an empty mapping: the problems are the keys it must have', () => {
    const lines = fileProblems('# nothing yet\n');
    expect(lines).toEqual([
      'the file holds no settings (it is empty or only comments)',
      'site: required: expected object',
      'lanes: required: expected array',
    ]);
  });

  it('says a ${NAME} inside { } must be quoted when YAML stops on one', () => {
    const lines = fileProblems(
      'site: { id: s }\nmqtt: { url: mqtt://b:1883, password: ${MQTT_PASSWORD} }\nlanes: []\n',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^YAML syntax at line 2, column \d+: .*; inside \{ \} a \$\{NAME\} must be quoted: \{ port: '\$\{NAME\}' \}/,
    );
  });

  it('blames the part of a URL that is wrong', () => {
    expect(urlProblem('mqtts://localhost:mqtts', ['mqtt', 'mqtts'])).toMatch(/^the port "mqtts" .* is not a number/);
    expect(urlProblem('ftp://x:21', ['mqtt', 'mqtts'])).toMatch(
      /scheme mqtt or mqtts, got "ftp:\/\/x:21" \(scheme "ftp"\)/,
    );
    expect(urlProblem('mqtt://', ['mqtt'])).toMatch(/no host/);
    expect(urlProblem('mqtt://user:pw@broker:1883', ['mqtt'])).toBeNull();
    expect(nearest('scanTimeoutMS', ['scanTimeoutMs', 'id'])).toBe('scanTimeoutMs');
    expect(nearest('prot', ['port', 'host'])).toBe('port');
    expect(nearest('colour', ['site', 'lanes'])).toBeNull();
  });

  it('refuses scanner.lowEnergyScale on a scanner without a line stream, pointing at fileDrop.lowEnergyScale', () => {
    const lane = (scanner: Record<string, unknown>) => ({ ...minimal(), lanes: [{ id: 'lane-1', scanner }] });
    expect(problems(lane({ fileDrop: { dir: '/srv/drop' }, lowEnergyScale: 0.88 }))).toEqual([
      'lanes[0].scanner.lowEnergyScale: lowEnergyScale applies to the line stream (scanner.transport), which this scanner does not have; for dropped files set scanner.fileDrop.lowEnergyScale',
    ]);
    expect(
      validateConfig(lane({ fileDrop: { dir: '/srv/drop', lowEnergyScale: 0.88 } }), 'x', {}).lanes[0].scanner,
    ).toMatchObject({ lowEnergyScale: 'auto', fileDrop: { lowEnergyScale: 0.88 } });
    const tcp = { type: 'tcp', host: '10.0.0.5', port: 4000 };
    expect(
      validateConfig(lane({ transport: tcp, lowEnergyScale: 'none' }), 'x', {}).lanes[0].scanner.lowEnergyScale,
    ).toBe('none');
    expect(problems(lane({ transport: { type: 'tcp', host: '10.0.0.5', port: 4000 }, lowEnergyScale: 3 }))).toEqual([
      'lanes[0].scanner.lowEnergyScale: expected a number 0.5-2, got 3',
    ]);
  });

  it("scanner.lineMm: 'pixel' by default, 'speed' or a pitch in mm, anything else named", () => {
    const lane = (lineMm?: unknown) => ({
      ...minimal(),
      lanes: [
        { id: 'lane-1', scanner: { fileDrop: { dir: '/srv/drop' }, ...(lineMm !== undefined ? { lineMm } : {}) } },
      ],
    });
    expect(validateConfig(lane(), 'x', {}).lanes[0].scanner.lineMm).toBe('pixel');
    expect(validateConfig(lane('speed'), 'x', {}).lanes[0].scanner.lineMm).toBe('speed');
    expect(validateConfig(lane(7.5), 'x', {}).lanes[0].scanner.lineMm).toBe(7.5);
    expect(problems(lane('sped'))).toEqual([
      "lanes[0].scanner.lineMm: expected 'pixel', 'speed' or a pitch in mm 0.5-50, got \"sped\"; did you mean 'speed'?",
    ]);
    expect(problems(lane(80))).toEqual(['lanes[0].scanner.lineMm: expected a number 0.5-50, got 80']);
  });

  it('accepts only sidecar fields as scanner.fileDrop.xmlFields keys, naming any other', () => {
    const lane = (xmlFields: Record<string, unknown>) => ({
      ...minimal(),
      lanes: [{ id: 'lane-1', scanner: { fileDrop: { dir: '/srv/drop', xmlFields } } }],
    });
    expect(problems(lane({ plate: 'Scan/Plate', foo: 'X/Y' }))).toEqual([
      'lanes[0].scanner.fileDrop.xmlFields.foo: unknown key "foo" (known here: scanId, time, pixelMm, lineMm, lineRateHz, speedKmh, plate, vehicle, containerCode)',
    ]);
    expect(problems(lane({ plate: 7 }))).toEqual([
      'lanes[0].scanner.fileDrop.xmlFields.plate: expected an element path, e.g. "ScanInfo/LicensePlate", got 7',
    ]);
    const all = Object.fromEntries(XML_FIELDS.map((f) => [f, `Scan/${f}`]));
    expect(validateConfig(lane(all), 'x', {}).lanes[0].scanner.fileDrop?.xmlFields).toEqual(all);
    // The schema's keys are exactly the fields the sidecar reader fills.
    expect(Object.keys(xmlFields.shape).sort()).toEqual([...XML_FIELDS].sort());
  });

  it('says what is required when it is missing', () => {
    const out = problems({ lanes: [{ scanner: { transport: { type: 'serial' } } }] });
    expect(out).toContain('site: required: expected object');
    expect(out).toContain('lanes[0].id: required: expected an identifier (letters, digits, - and _)');
    expect(out).toContain('lanes[0].scanner.transport.path: required: expected a device path');
  });

  it('rejects an unknown transport type and enum values with the allowed ones', () => {
    const raw = minimal() as Json;
    raw.lanes[0].scanner.transport = { type: 'udp', port: 1 };
    raw.log = { level: 'loud' };
    const out = problems(raw);
    expect(out).toContain(
      'lanes[0].scanner.transport.type: expected a transport with type "tcp" or "serial", got "udp"',
    );
    expect(out).toContain('log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", got "loud"');
  });

  it('names the nearest allowed word for a misspelt value', () => {
    const raw = minimal() as Json;
    raw.log = { level: 'Debg' };
    raw.lanes[0].thresholds = { alert: 'heldout' };
    expect(problems(raw)).toEqual([
      'log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", got "Debg"; did you mean "debug"?',
      `lanes[0].thresholds.alert: expected 'held-out' or a number 0-1, got "heldout"; did you mean 'held-out'?`,
    ]);
  });

  it('checks across fields: duplicate lane ids and a scanner with no way in', () => {
    const raw = minimal() as Json;
    raw.lanes.push({ id: 'lane-1', scanner: {} });
    const out = problems(raw);
    expect(out).toContain('lanes[1].id: lane id "lane-1" is used twice');
    expect(out).toContain(
      'lanes[1].scanner: lane lane-1: the scanner needs a transport or a fileDrop, or no scan can arrive',
    );
  });

  it('takes 1 to 4 lanes, each with its own MQTT identity, and names the lane and field of a problem', () => {
    const two = loadConfig(join(EXAMPLES, 'two-lanes.yaml'), ENV);
    expect(two.lanes.map((l) => [l.id, l.mqtt?.username, l.mqtt?.password])).toEqual([
      ['lane-3', 'lane-3', 'pw3'],
      ['lane-4', 'lane-4', 'pw4'],
    ]);
    expect(two.inference.concurrentTiles).toBe(1);
    expect(validateConfig(minimal(), 'x', {}).inference).toEqual({ concurrentTiles: 1 });
    const lane = (id: string, extra: object = {}) => ({
      id,
      scanner: { transport: { type: 'tcp', port: 4001 } },
      ...extra,
    });
    const five = { ...minimal(), lanes: ['a', 'b', 'c', 'd', 'e'].map((id) => lane(id)) };
    expect(problems(five)).toContain(
      'lanes: expected at most 4 lanes on one edge computer, got 5: run another edge computer for the other lanes',
    );
    const clash = {
      ...minimal(),
      mqtt: { url: 'mqtt://broker:1883' },
      lanes: [lane('a', { mqtt: { clientId: 'edge' } }), lane('b', { mqtt: { clientId: 'edge' } })],
    };
    expect(problems(clash)).toContain(
      'lanes[1].mqtt.clientId: lane b: MQTT client id "edge" is also lane a\'s; the broker would disconnect one whenever the other connects',
    );
    const noSite = { ...minimal(), lanes: [lane('a', { mqtt: { username: 'x' } })] };
    expect(problems(noSite)[0]).toMatch(
      /^lanes\[0\]\.mqtt: lane a: lanes\[\]\.mqtt is set but the site has no mqtt section/,
    );
    const unknown = { ...minimal(), mqtt: { url: 'mqtt://broker:1883' }, lanes: [lane('a', { mqtt: { user: 'x' } })] };
    expect(problems(unknown).join('\n')).toMatch(/lanes\[0\]\.mqtt.*user/);
    expect(problems({ ...minimal(), inference: { concurrentTiles: 0 } })[0]).toMatch(/^inference\.concurrentTiles: /);
  });

  it('substitutes ${VAR} from the environment and from VAR_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'pw'), 'from-file\n');
    const raw = {
      ...minimal(),
      mqtt: { url: 'mqtt://${BROKER_HOST}:1883', username: '${MQTT_USER}', password: '${MQTT_PASSWORD}' },
    };
    const cfg = validateConfig(raw, 'x', {
      BROKER_HOST: 'central',
      MQTT_USER: 'lane-1',
      MQTT_PASSWORD_FILE: join(dir, 'pw'),
    });
    expect(cfg.mqtt?.url).toBe('mqtt://central:1883');
    expect(cfg.mqtt?.username).toBe('lane-1');
    expect(cfg.mqtt?.password).toBe('from-file');
  });

  it('reads a whole ${VAR} as a number or boolean where the schema wants one, and as text where it wants text', () => {
    const lane = (alert: string) => ({
      id: 'lane-1',
      scanner: { transport: { type: 'tcp', port: '${SCANNER_PORT}' } },
      thresholds: { alert },
    });
    const raw = { ...minimal(), mqtt: { url: 'mqtt://x:1883', password: '${PW}' }, lanes: [lane('${LANE_ALERT}')] };
    const env = { SCANNER_PORT: '4001', PW: '123456', LANE_ALERT: '0.7' };
    const cfg = validateConfig(raw, 'x', env);
    expect(cfg.lanes[0]!.thresholds.alert).toBe(0.7);
    expect(cfg.lanes[0]!.scanner.transport).toMatchObject({ port: 4001 });
    expect(cfg.mqtt?.password).toBe('123456');
    expect(validateConfig(raw, 'x', { ...env, LANE_ALERT: 'held-out' }).lanes[0]!.thresholds.alert).toBe('held-out');
    expect(problems(raw, { ...env, LANE_ALERT: '0,7' })).toEqual([
      `lanes[0].thresholds.alert: expected 'held-out' or a number 0-1, got "0,7"`,
    ]);
    // A text key refusing the text for its own reason keeps its message, without the value (it came from the environment).
    const broker = { ...raw, mqtt: { url: '${BROKER}', password: '${PW}' } };
    expect(problems(broker, { ...env, BROKER: '1883' })).toEqual([
      `mqtt.url: expected a URL like mqtt://host:1883, got "…" (the value is \${BROKER} with the environment's values put in, not shown)`,
    ]);
    // Only a value that is one ${VAR} and nothing else is read as a number.
    const mixed = { ...raw, lanes: [lane('0.${DIGITS}')] };
    expect(problems(mixed, { ...env, DIGITS: '7' })).toEqual([
      `lanes[0].thresholds.alert: expected 'held-out' or a number 0-1, got "0.7"`,
    ]);
  });

  it('reports a missing environment variable or unreadable secret file at its path', () => {
    const raw = { ...minimal(), mqtt: { url: 'mqtt://x:1883', username: '${NOBODY}', password: '${PW}' } };
    expect(problems(raw, { PW_FILE: '/nonexistent/secret' })).toEqual([
      'mqtt.username: environment variable NOBODY is not set (nor NOBODY_FILE)',
      'mqtt.password: PW_FILE names /nonexistent/secret, which cannot be read (ENOENT)',
    ]);
  });

  it('refuses a variable set both directly and as VAR_FILE, and a secret whose variable is set to nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'pw'), 'from-file\n');
    writeFileSync(join(dir, 'empty'), '');
    const raw = { ...minimal(), mqtt: { url: 'mqtt://x:1883', username: '${USER}', password: '${PW}' } };
    expect(problems(raw, { USER: 'lane-1', PW: 'direct', PW_FILE: join(dir, 'pw') })).toEqual([
      'mqtt.password: both PW and PW_FILE are set: set only one',
    ]);
    expect(problems(raw, { USER: 'lane-1', PW: '' })).toEqual(['mqtt.password: PW is set but empty']);
    expect(problems(raw, { USER: 'lane-1', PW_FILE: join(dir, 'empty') })).toEqual([
      'mqtt.password: PW is set but empty',
    ]);
    // White space only is as empty, for the service as for doctor (config/load.ts isBlank).
    expect(problems(raw, { USER: 'lane-1', PW: ' \t' })).toEqual(['mqtt.password: PW is set but empty']);
    writeFileSync(join(dir, 'newlines'), '\n\n');
    expect(problems(raw, { USER: 'lane-1', PW_FILE: join(dir, 'newlines') })).toEqual([
      'mqtt.password: PW is set but empty',
    ]);
    // Text that is not a secret may be empty on purpose.
    expect(validateConfig(raw, 'x', { USER: '', PW: 'x' }).mqtt?.username).toBe('');
  });

  it('never puts a value made from the environment into a message, even a URL that does not parse', () => {
    const cam = (url: string) => ({
      ...minimal(),
      lanes: [{ ...minimal().lanes[0], cameras: [{ id: 'front', role: 'front', kind: 'mjpeg', url }] }],
    });
    const out = problems(cam('http://camuser:${CAM_PASSWORD}@127.0.0.1:18554/front'), { CAM_PASSWORD: 'p@ss:w/rd' });
    expect(out).toEqual([
      `lanes[0].cameras[0].url: the port "…" in "…" is not a number 1-65535 (the value is http://camuser:\${CAM_PASSWORD}@127.0.0.1:18554/front with the environment's values put in, not shown; in a URL a user name or password must be percent-encoded (@ as %40, : as %3A, / as %2F, # as %23, ? as %3F), or given in the key's own password field)`,
    ]);
    expect(out.join('\n')).not.toMatch(/p@ss|ss:w|w\/rd|\/\/ss/);
    // A variable that is not set is said once, not again as the empty text it became.
    expect(problems(cam('${CAM_URL}'), {})).toEqual([
      'lanes[0].cameras[0].url: environment variable CAM_URL is not set (nor CAM_URL_FILE)',
    ]);
  });

  it('never puts a secret value into an error message', () => {
    const raw = { ...minimal(), mqtt: { url: 'mqtt://x:1883', password: '${PW}', protocolVersion: 7 } };
    const out = problems(raw, { PW: 'hunter2' }).join('\n');
    expect(out).toContain('mqtt.protocolVersion');
    expect(out).not.toContain('hunter2');
  });

  it('never prints a secret given with the wrong type, nor the credentials of a URL', () => {
    // YAML reads an all-digit password as a number; a list of one is a common slip too.
    const raw = {
      ...minimal(),
      mqtt: { url: 'mqtt://x:1883', password: 7391004217 },
      lanes: [
        {
          id: 'lane-1',
          scanner: {
            transport: { type: 'tcp', port: 4001 },
            opcua: { endpoint: 'opc.tcp://s:4840', password: ['Tr0ub4dor&3'] },
          },
          cameras: [{ id: 'c', role: 'front', kind: 'mjpeg', url: 'ftp://admin:cam-Secret-9@10.0.0.9/x' }],
        },
      ],
    };
    const lines = problems(raw);
    const out = lines.join('\n');
    for (const secret of ['7391004217', 'Tr0ub4dor', 'cam-Secret-9']) expect(out).not.toContain(secret);
    expect(lines).toContain('mqtt.password: expected a string, got a number (value not shown: it is a secret)');
    expect(out).toMatch(/lanes\[0\]\.cameras\[0\]\.url: .*ftp:\/\/\*\*\*@10\.0\.0\.9\/x/);
  });

  it('reports YAML syntax errors with their line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'site:\n  id: a\n lanes: [\n');
    let lines: string[] = [];
    try {
      loadConfig(f, {});
    } catch (err) {
      lines = (err as ConfigError).lines();
    }
    // one syntax error, one line, its location said once
    expect(lines).toEqual([
      'YAML syntax at line 3, column 1: All mapping items must start at the same column (fix this first; 1 more error(s) may follow from it)',
    ]);
  });

  it('docs/config.schema.json is the schema generated from the zod schema', () => {
    const committed = JSON.parse(readFileSync(join(import.meta.dirname, '../../../docs/config.schema.json'), 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });
});

describe('config schema', () => {
  it('describes every field', () => {
    const missing: string[] = [];
    const walk = (s: Json, path: string) => {
      if (!s || typeof s !== 'object') return;
      const variants = s.oneOf ?? s.anyOf;
      if (variants?.every((v: Json) => v.type === 'object')) {
        for (const v of variants) walk(v, path);
        return;
      }
      if (path && !s.description) missing.push(path);
      for (const [k, v] of Object.entries<Json>(s.properties ?? {})) walk(v, `${path}.${k}`);
      if (s.items) walk({ ...s.items, description: s.items.description ?? s.description }, `${path}[]`);
    };
    walk(configJsonSchema(), '');
    expect(missing).toEqual([]);
  });
});

describe("what doctor may show of a config's ${NAME}", () => {
  /** Every leaf key of the config's JSON Schema, arrays entered at element 0. */
  function leafPaths(s: Record<string, unknown>, path: PropertyKey[], out: PropertyKey[][]): void {
    const props = s.properties as Record<string, Record<string, unknown>> | undefined;
    const variants = [...((s.anyOf as []) ?? []), ...((s.oneOf as []) ?? [])] as Record<string, unknown>[];
    if (props) for (const [k, v] of Object.entries(props)) leafPaths(v, [...path, k], out);
    else if (s.items) leafPaths(s.items as Record<string, unknown>, [...path, 0], out);
    else if (variants.length) for (const v of variants) leafPaths(v, path, out);
    else out.push(path);
  }

  it('knows every password, token and secret key of the schema for a secret, checks added to it or not', () => {
    const paths: PropertyKey[][] = [];
    leafPaths(configJsonSchema() as Record<string, unknown>, [], paths);
    const secretLooking = paths.filter((p) => /password|token|secret/i.test(String(p[p.length - 1])));
    expect(secretLooking.length).toBeGreaterThanOrEqual(5);
    expect(
      secretLooking.map((p) => p.join('.')).filter((_, i) => !isSecretAt(configSchema, secretLooking[i]!)),
    ).toEqual([]);
    expect(isSecretAt(configSchema, ['lanes', 0, 'anpr', 'token'])).toBe(true); // secret().min(16)
    expect(isSecretAt(configSchema, ['mqtt', 'url'])).toBe(false);
  });

  it('shows a value only where every alternative takes a number, true/false or a word', () => {
    expect(isSettingAt(configSchema, ['lanes', 0, 'thresholds', 'alert'])).toBe(true); // a number or 'held-out'
    expect(isSettingAt(configSchema, ['mqtt', 'port'])).toBe(false); // no such key
    expect(isSettingAt(configSchema, ['lanes', 0, 'scanner', 'transport', 'port'])).toBe(true);
    expect(isSettingAt(configSchema, ['lanes', 0, 'scanner', 'transport', 'host'])).toBe(false); // text
    expect(isSettingAt(configSchema, ['lanes', 0, 'cameras', 0, 'url'])).toBe(false); // a URL may carry a password
    const raw = {
      mqtt: { url: 'mqtt://edge:${MQTT_PASSWORD}@broker', password: '${MQTT_PASSWORD_TOO}' },
      lanes: [
        {
          thresholds: { alert: '${LANE_ALERT}' },
          scanner: { transport: { host: '${HOST}', port: '${PORT}' } },
          cameras: [{ url: '${CAMERA_URL}' }],
          typo: '${UNKNOWN}',
          anpr: { token: '${PORT}' }, // the most guarded use wins
        },
      ],
    };
    expect([...envReferences(raw)]).toEqual([
      ['MQTT_PASSWORD', 'secret'],
      ['MQTT_PASSWORD_TOO', 'secret'],
      ['LANE_ALERT', 'setting'],
      ['HOST', 'text'],
      ['PORT', 'secret'],
      ['CAMERA_URL', 'text'],
      ['UNKNOWN', 'text'],
    ]);
  });
});
