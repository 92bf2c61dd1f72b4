import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ScannerCommandError } from '../../../../../firmware-bridge/scanner/opcua/scanner-commands.js';
import { ScannerOpcuaServer, SIM_INTERLOCK_NAMES, SIM_INTERLOCKS } from '../../../../../sim/scanner/opcua-server.js';
import { silentLogger } from '../../../../../core/logger.js';
import { isOk, makeClient, scannerState, type ClientUnderTest } from './harness.js';

// One simulator for the whole file: node-opcua takes a second or two to start a server.
// One client with the default settings serves the tests that need no other settings.
let sim: ScannerOpcuaServer;
let endpoint: string;
let main: ClientUnderTest;
const clients: ClientUnderTest[] = [];

beforeAll(async () => {
  sim = new ScannerOpcuaServer({ port: 0, log: silentLogger() });
  endpoint = await sim.start();
  main = await connected();
  clients.length = 0;
});

afterAll(async () => {
  await main?.dispose();
  await sim?.stop();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  // leave the simulator as every test expects to find it, and wait until the shared client sees that
  sim.clearFault();
  sim.setInterlocks(0);
  if (sim.state !== 'Ready') sim.forceState('Ready');
  sim.setSpeed(0);
  await main.reach(
    'ok Ready',
    (s) => isOk(s) && s.info?.scannerState === 'Ready' && s.info?.interlocks === 0 && s.info?.speedKmh === 0,
  );
});

function client(config: Record<string, unknown> = {}, opts: { trust?: string[] } = {}): ClientUnderTest {
  const c = makeClient({ endpoint, interlockNames: [...SIM_INTERLOCK_NAMES], ...config }, opts);
  clients.push(c);
  return c;
}

async function connected(
  config: Record<string, unknown> = {},
  opts: { trust?: string[] } = {},
): Promise<ClientUnderTest> {
  const c = client(config, opts);
  const ready = c.next('ok Ready', (s) => isOk(s) && s.info?.scannerState === 'Ready');
  await c.client.start();
  await ready;
  return c;
}

describe('scanner OPC UA client against the simulator', () => {
  it('publishes the scanner values and sees a state change within 500 ms', async () => {
    const c = main;
    const first = c.client.status;
    expect(first).toMatchObject({ device: 'scanner.opcua', state: 'ok', detail: 'scanner Ready' });
    expect(first.info).toMatchObject({
      scannerState: 'Ready',
      interlocks: 0,
      interlocksOpen: '',
      speedKmh: 0,
      radiationOn: false,
      fault: null,
    });

    const seen = c.next('state Off', scannerState('Off'));
    const t0 = performance.now();
    sim.powerOff();
    const e = await seen;
    const latencyMs = e.at - t0;
    console.log(`opcua state change seen after ${latencyMs.toFixed(1)} ms (samplingMs 100)`);
    expect(latencyMs).toBeLessThan(500);
    expect(e.status.state).toBe('ok');

    const back = c.next('state Ready', scannerState('Ready'));
    sim.powerOn();
    await back;
  });

  it('follows a vehicle passage: Armed, Scanning with radiation on and speed, Ready', async () => {
    const c = main;
    const armed = c.next('Armed', scannerState('Armed'));
    const r = await c.client.arm();
    expect(r).toMatchObject({ command: 'arm', statusCode: 'Good', outputs: ['armed'] });
    expect(typeof r.ms).toBe('number');
    await armed;

    const scanning = c.next(
      'Scanning',
      (s) => s.info?.scannerState === 'Scanning' && s.info?.radiationOn === true && s.info?.speedKmh === 7.5,
    );
    sim.beginScan(7.5);
    await scanning;

    const done = c.next(
      'Ready, radiation off',
      (s) => s.info?.scannerState === 'Ready' && s.info?.radiationOn === false,
    );
    sim.endScan();
    await done;
  });

  it('reports a scanner fault as state fault with the fault text, and ok again once cleared', async () => {
    const c = main;
    const fault = c.next('fault', (s) => s.state === 'fault');
    sim.injectFault('X-ray source overtemperature');
    const f = await fault;
    expect(f.status.detail).toBe('X-ray source overtemperature');
    expect(f.status.info).toMatchObject({
      scannerState: 'Fault',
      fault: 'X-ray source overtemperature',
      radiationOn: false,
    });

    const ok = c.next('ok after clear', (s) => isOk(s) && s.info?.scannerState === 'Ready');
    sim.clearFault();
    await ok;

    // State Fault without a text is a fault too.
    const bare = c.next('fault without text', (s) => s.state === 'fault');
    sim.forceState('Fault');
    expect((await bare).status.detail).toMatch(/state Fault without a fault text/);
  });

  it('opening an interlock mid-scan trips the scanner: status fault naming the interlock', async () => {
    const c = main;
    await c.client.arm();
    sim.beginScan(5);
    await c.reach('Scanning', scannerState('Scanning'));
    const fault = c.next('fault', (s) => s.state === 'fault');
    sim.openInterlock('doors');
    const f = await fault;
    expect(f.status.detail).toBe('interlock opened: doors');
    expect(f.status.info).toMatchObject({
      interlocks: SIM_INTERLOCKS.doors,
      interlocksOpen: 'doors',
      radiationOn: false,
    });
  });

  it('a call the server rejects surfaces as a clear error naming the method, node id and status code', async () => {
    const c = main;
    sim.openInterlock('emergencyStop');
    await c.reach('interlock open', (s) => s.info?.interlocksOpen === 'emergency-stop');

    const err = await c.client.arm().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ScannerCommandError);
    const e = err as ScannerCommandError;
    expect(e.statusCode).toBe('BadInvalidState');
    expect(e.command).toBe('arm');
    expect(e.methodId).toBe('ns=1;s=Scanner.Arm');
    expect(e.message).toContain('Arm');
    expect(e.message).toContain('ns=1;s=Scanner.Arm');
    expect(e.message).toContain('BadInvalidState');
    expect(e.message).toContain('interlocks open: emergency-stop');
    expect(sim.calls.at(-1)).toMatchObject({ method: 'Arm', statusCode: 'BadInvalidState' });
    expect(sim.state).toBe('Ready');

    // Not Ready is refused the same way.
    sim.closeInterlock('emergencyStop');
    await c.client.arm();
    await c.reach('Armed', scannerState('Armed'));
    await expect(c.client.arm()).rejects.toThrow(/rejected Arm .*BadInvalidState.*now: Armed/);
    // Abort is never refused.
    await expect(c.client.abort()).resolves.toMatchObject({
      command: 'abort',
      statusCode: 'Good',
      outputs: ['aborted'],
    });
    await expect(c.client.abort()).resolves.toMatchObject({ outputs: ['nothing to abort (Ready)'] });
  });

  it('a method node id the server does not know is a clear error that says which setting to check', async () => {
    const c = await connected({ nodes: { arm: 'ns=1;s=Scanner.Launch' } });
    await expect(c.client.arm()).rejects.toThrow(
      /ns=1;s=Scanner\.Launch.*Bad(MethodInvalid|NodeIdUnknown).*scanner\.opcua\.nodes\.arm/,
    );
  });

  it('a value node the server does not have makes the status degraded, naming the field and node', async () => {
    const c = client({ nodes: { speed: 'ns=1;s=Scanner.NoSuchSpeed' } });
    const degraded = c.next('degraded', (s) => s.state === 'degraded');
    await c.client.start();
    const d = await degraded;
    expect(d.status.detail).toMatch(
      /speed \(ns=1;s=Scanner\.NoSuchSpeed\) cannot be read: BadNodeIdUnknown; check scanner\.opcua\.nodes\.speed/,
    );
    expect(d.status.info).toMatchObject({ scannerState: 'Ready', speedKmh: null });
  });

  it('a call while not connected fails at once, saying why', async () => {
    const c = client({ endpoint: 'opc.tcp://127.0.0.1:1/none' });
    const down = c.next('disconnected', (s) => s.state === 'disconnected');
    await c.client.start();
    expect((await down).status.detail).toMatch(/cannot reach opc\.tcp:\/\/127\.0\.0\.1:1\/none/);
    await expect(c.client.arm()).rejects.toMatchObject({
      statusCode: 'NotConnected',
      message: expect.stringMatching(/not connected to opc\.tcp:\/\/127\.0\.0\.1:1\/none/),
    });
  });

  it('logs in with a user name and password, and says so when the server refuses them', async () => {
    sim.addUser('checkpoint', 'right-password');
    const wrong = client({ username: 'checkpoint', password: 'wrong-password' });
    const down = wrong.next('disconnected', (s) => s.state === 'disconnected');
    await wrong.client.start();
    const d = await down;
    expect(d.status.detail).toMatch(/refused the user .*check scanner\.opcua\.username and password/);
    expect(d.status.detail).not.toContain('wrong-password');
    await connected({ username: 'checkpoint', password: 'right-password' });
  });

  it('stops at once while still connecting, leaving no channel open', async () => {
    const c = client();
    await c.client.start();
    await c.client.stop();
    await vi.waitFor(() => expect(sim.channels()).toHaveLength(1), { timeout: 5000, interval: 50 }); // the shared client's
  });

  it('connects with SignAndEncrypt and Basic256Sha256 once the server certificate is trusted', async () => {
    const config = { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' };
    const c = await connected(config, { trust: [sim.certificateFile] });
    expect(sim.channels()).toContainEqual({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' });
    // the client made its own certificate in its store, for the scanner's trust list
    const own = new X509Certificate(readFileSync(join(c.pkiDir, 'own', 'certs', 'client_certificate.pem')));
    expect(own.subject).toContain('CN=checkpoint-edge lane-t');
    expect(own.subjectAltName).toContain('URI:urn:checkpoint-edge:lane-t');
    const armed = c.next('Armed', scannerState('Armed'));
    await c.client.arm();
    await armed;
  });

  it('connects with Sign (signed, not encrypted) and Basic256Sha256, and calls methods over it', async () => {
    const c = await connected(
      { securityMode: 'Sign', securityPolicy: 'Basic256Sha256' },
      { trust: [sim.certificateFile] },
    );
    expect(sim.channels()).toContainEqual({ securityMode: 'Sign', securityPolicy: 'Basic256Sha256' });
    const armed = c.next('Armed', scannerState('Armed'));
    await c.client.arm();
    await armed;
    await expect(c.client.abort()).resolves.toMatchObject({
      command: 'abort',
      statusCode: 'Good',
      outputs: ['aborted'],
    });
  });

  it("says when the server refuses this client's certificate, and connects once the scanner trusts it", async () => {
    sim.acceptUnknownClientCertificates = false;
    try {
      const c = client(
        { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' },
        { trust: [sim.certificateFile] },
      );
      const down = c.next('disconnected', (s) => s.state === 'disconnected');
      await c.client.start();
      const d = await down;
      const own = join(c.pkiDir, 'own', 'certs', 'client_certificate.pem');
      expect(d.status.detail).toMatch(/refused this client's certificate .*BadSecurityChecksFailed/);
      expect(d.status.detail).toContain(own);
      // The scanner's administrator puts our certificate in its trust list; the client needs nothing.
      const ok = c.next('ok', isOk, 15_000);
      await sim.trustClientCertificate(own);
      await ok;
    } finally {
      sim.acceptUnknownClientCertificates = true;
    }
  });

  it('refuses an untrusted server certificate, says where to put it, and connects once it is moved there', async () => {
    const c = client({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' });
    const down = c.next('disconnected', (s) => s.state === 'disconnected');
    await c.client.start();
    const d = await down;
    expect(d.status.detail).toMatch(/certificate of the server at .* is not trusted/);
    expect(d.status.detail).toContain(join(c.pkiDir, 'trusted', 'certs'));
    const rejected = readdirSync(join(c.pkiDir, 'rejected'));
    expect(rejected).toHaveLength(1);
    expect(c.statuses.some((s) => s.status.state === 'ok')).toBe(false);

    // The site's procedure (docs/opcua.md): check it is the scanner's, move it to trusted/certs/. No restart.
    const der = new X509Certificate(readFileSync(join(c.pkiDir, 'rejected', rejected[0])));
    expect(der.fingerprint256).toBe(new X509Certificate(readFileSync(sim.certificateFile)).fingerprint256);
    const ok = c.next('ok', isOk, 15_000);
    renameSync(join(c.pkiDir, 'rejected', rejected[0]), join(c.pkiDir, 'trusted', 'certs', rejected[0]));
    await ok;
    expect(sim.channels()).toContainEqual({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' });
  });
});
