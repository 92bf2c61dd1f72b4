import { X509Certificate, createPrivateKey } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { loadModelFiles, operatingThresholds } from '../inference/manifest.js';
import { alertThreshold } from '../pipeline/lane-pipeline.js';
import { modelDir } from './compose/model.js';

/**
 * `validate-config --check`: opens every file, folder, device, certificate and secret a valid
 * config names, without starting the lane, and says for each whether it can be used and if not
 * why. Nothing is written or connected to: a serial device is checked for existence and access,
 * not opened (opening can reset a scanner's interface).
 */

export interface CheckResult {
  /** The config path, e.g. lanes[0].scanner.transport.path. */
  what: string;
  /** The file, folder or value checked. */
  target: string;
  ok: boolean;
  /** Why it fails, or what was found when it is fine. */
  detail: string;
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

function readable(path: string): string | null {
  try {
    accessSync(path, constants.R_OK);
    return null;
  } catch (err) {
    return `cannot be read (${code(err)})`;
  }
}

/** A folder the lane writes into: it exists and is writable, or its nearest existing parent is. */
function writableFolder(path: string): { ok: boolean; detail: string } {
  let p = resolve(path);
  let created = false;
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) break;
    p = up;
    created = true;
  }
  try {
    if (!statSync(p).isDirectory()) return { ok: false, detail: `${p} is not a folder` };
    accessSync(p, constants.W_OK | constants.X_OK);
    return { ok: true, detail: created ? `does not exist yet; will be created under ${p}` : 'writable folder' };
  } catch (err) {
    return { ok: false, detail: `${p} is not writable (${code(err)})` };
  }
}

function pemCertificates(path: string): { certs: X509Certificate[]; problem: string | null } {
  const unreadable = readable(path);
  if (unreadable) return { certs: [], problem: unreadable };
  const text = readFileSync(path, 'utf8');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    return {
      certs: [],
      problem: text.trim() === '' ? 'is empty' : 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
    };
  try {
    return { certs: blocks.map((b) => new X509Certificate(b)), problem: null };
  } catch (err) {
    return { certs: [], problem: `holds a certificate that cannot be parsed (${(err as Error).message})` };
  }
}

function validity(c: X509Certificate, now: Date): string | null {
  if (new Date(c.validTo).getTime() < now.getTime())
    return `expired on ${new Date(c.validTo).toISOString().slice(0, 10)}`;
  if (new Date(c.validFrom).getTime() > now.getTime())
    return `not valid before ${new Date(c.validFrom).toISOString().slice(0, 10)}`;
  return null;
}

const subject = (c: X509Certificate) => c.subject.replace(/\n/g, ', ');

/** Checks the files and values of the MQTT TLS settings: CA, client certificate and key, and that the key fits the certificate. */
function checkTls(
  out: CheckResult[],
  prefix: string,
  tls: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined },
  now: Date,
): void {
  if (tls.ca) {
    const { certs, problem } = pemCertificates(tls.ca);
    const bad =
      problem ??
      certs.map((c) => validity(c, now)).find(Boolean) ??
      (certs.some((c) => c.ca)
        ? null
        : "holds no CA certificate (basicConstraints CA:TRUE): is this the server's own certificate instead of its CA?");
    out.push({
      what: `${prefix}.ca`,
      target: tls.ca,
      ok: !bad,
      detail: bad ?? `${certs.length} CA certificate(s): ${certs.map(subject).join('; ')}`,
    });
  }
  let cert: X509Certificate | null = null;
  if (tls.cert) {
    const { certs, problem } = pemCertificates(tls.cert);
    cert = certs[0] ?? null;
    const bad = problem ?? (cert ? validity(cert, now) : null);
    out.push({
      what: `${prefix}.cert`,
      target: tls.cert,
      ok: !bad,
      detail:
        bad ??
        `${subject(cert!)}, issued by ${cert!.issuer.replace(/\n/g, ', ')}, valid until ${new Date(cert!.validTo).toISOString().slice(0, 10)}`,
    });
  }
  if (tls.key) {
    const unreadable = readable(tls.key);
    let bad = unreadable;
    let detail = 'private key';
    if (!bad) {
      try {
        const key = createPrivateKey(readFileSync(tls.key));
        detail = `${key.asymmetricKeyType} private key`;
        if (cert && !cert.checkPrivateKey(key))
          bad = `does not belong to the certificate in ${prefix}.cert (${tls.cert})`;
        else if (cert) detail += `, matches ${prefix}.cert`;
      } catch (err) {
        bad = `is not a private key Node can read (${(err as Error).message}); a passphrase-protected key is not supported`;
      }
    }
    out.push({ what: `${prefix}.key`, target: tls.key, ok: !bad, detail: bad ?? detail });
  }
  if ((tls.cert && !tls.key) || (tls.key && !tls.cert))
    out.push({ what: prefix, target: '-', ok: false, detail: 'cert and key go together: give both or neither' });
}

/** A secret that came out empty (an empty secret file, an empty environment variable). */
function checkSecret(out: CheckResult[], what: string, value: string | undefined): void {
  if (value === undefined) return;
  out.push({
    what,
    target: '(secret)',
    ok: value.trim() !== '',
    detail:
      value.trim() === ''
        ? 'is empty: the environment variable or its _FILE is empty'
        : `set (${value.length} characters)`,
  });
}

/** Runs every check of a valid config. */
export async function checkSite(config: Config, now = new Date()): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const dataDir = resolve(config.dataDir);
  out.push({ what: 'dataDir', target: dataDir, ...writableFolder(dataDir) });

  if (config.mqtt) {
    const m = config.mqtt;
    if (m.tls) checkTls(out, 'mqtt.tls', m.tls, now);
    checkSecret(out, 'mqtt.username', m.username);
    checkSecret(out, 'mqtt.password', m.password);
    if (m.outbox.path)
      out.push({ what: 'mqtt.outbox.path', target: m.outbox.path, ...writableFolder(dirname(resolve(m.outbox.path))) });
  }
  if (config.console.enabled) {
    const users = config.console.usersFile ? resolve(config.console.usersFile) : join(dataDir, 'users.json');
    if (!existsSync(users))
      out.push({
        what: 'console.usersFile',
        target: users,
        ok: true,
        detail: 'does not exist yet: nobody can log in until `checkpoint-edge users add` creates an account',
      });
    else {
      const bad = readable(users);
      let detail = '';
      let problem = bad;
      if (!problem) {
        try {
          const list = JSON.parse(readFileSync(users, 'utf8')) as unknown;
          const n = Array.isArray(list)
            ? list.length
            : Array.isArray((list as { users?: unknown[] }).users)
              ? (list as { users: unknown[] }).users.length
              : null;
          detail = n === null ? 'JSON' : `${n} account(s)`;
        } catch (err) {
          problem = `is not valid JSON (${(err as Error).message})`;
        }
      }
      out.push({ what: 'console.usersFile', target: users, ok: !problem, detail: problem ?? detail });
    }
  }
  if (config.evidence.dir)
    out.push({ what: 'evidence.dir', target: config.evidence.dir, ...writableFolder(config.evidence.dir) });

  for (const [i, lane] of config.lanes.entries()) {
    const at = `lanes[${i}]`;
    const t = lane.scanner.transport;
    if (t?.type === 'serial') {
      let detail = '';
      let bad: string | null = null;
      try {
        const s = statSync(t.path);
        if (!s.isCharacterDevice()) bad = 'is not a character device (a serial port is)';
        else {
          accessSync(t.path, constants.R_OK | constants.W_OK);
          detail = `serial device, readable and writable (not opened by the check), ${t.baudRate} baud`;
        }
      } catch (err) {
        const c = code(err);
        bad =
          c === 'ENOENT'
            ? 'does not exist: is the scanner plugged in? (ls /dev/serial/by-id/)'
            : c === 'EACCES'
              ? 'cannot be opened for reading and writing (EACCES): add the service user to the dialout group'
              : `cannot be used (${c})`;
      }
      out.push({ what: `${at}.scanner.transport.path`, target: t.path, ok: !bad, detail: bad ?? detail });
    }
    const drop = lane.scanner.fileDrop;
    if (drop) {
      let bad: string | null = null;
      try {
        if (!statSync(drop.dir).isDirectory()) bad = 'is not a folder';
        else accessSync(drop.dir, constants.R_OK | constants.W_OK | constants.X_OK);
      } catch (err) {
        bad =
          code(err) === 'ENOENT'
            ? 'does not exist: the scanner writes its scans there'
            : `cannot be read and written (${code(err)}): taken scans are moved out of it`;
      }
      out.push({
        what: `${at}.scanner.fileDrop.dir`,
        target: drop.dir,
        ok: !bad,
        detail: bad ?? 'folder, readable and writable',
      });
      for (const k of ['processedDir', 'failedDir'] as const)
        if (drop[k]) out.push({ what: `${at}.scanner.fileDrop.${k}`, target: drop[k]!, ...writableFolder(drop[k]!) });
    }
    const opcua = lane.scanner.opcua;
    if (opcua) {
      if (opcua.pkiDir)
        out.push({ what: `${at}.scanner.opcua.pkiDir`, target: opcua.pkiDir, ...writableFolder(opcua.pkiDir) });
      checkSecret(out, `${at}.scanner.opcua.password`, opcua.password);
    }
    if (lane.model) {
      const dir = modelDir(lane.model.path);
      try {
        const files = await loadModelFiles(dir);
        // A threshold the lane asked for and the model lacks is not a fault (the lane decides at the model's own
        // point), but not what was asked for: said as the lane says it at start.
        const decided = alertThreshold(lane.thresholds, {
          model: files.identity,
          ...operatingThresholds(files.manifest),
        });
        out.push({
          what: `${at}.model.path`,
          target: dir,
          ok: true,
          detail: `${files.identity.name} ${files.identity.version}, checksum verified${decided.warning ? `; ${decided.source}` : ''}`,
        });
      } catch (err) {
        out.push({ what: `${at}.model.path`, target: dir, ok: false, detail: (err as Error).message });
      }
    } else {
      out.push({
        what: `${at}.model`,
        target: '-',
        ok: false,
        detail: 'no model is configured: every scan of this lane would be decided "unavailable"',
      });
    }
    for (const [j, cam] of lane.cameras.entries()) {
      checkSecret(out, `${at}.cameras[${j}].password`, cam.password);
      if (cam.url.startsWith('file:')) {
        const path = new URL(cam.url).pathname;
        const bad = readable(path);
        out.push({ what: `${at}.cameras[${j}].url`, target: path, ok: !bad, detail: bad ?? 'readable file' });
      }
    }
    checkSecret(out, `${at}.anpr.token`, lane.anpr.token);
    checkSecret(out, `${at}.anpr.mqtt.password`, lane.anpr.mqtt?.password);
  }
  return out;
}
