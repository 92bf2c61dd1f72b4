import { EventEmitter, once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  StatusCodes,
  Variant,
  type StatusCode,
  type UAVariable,
} from 'node-opcua';
import { routeOpcuaLogs } from '../../firmware-bridge/scanner/opcua/opcua-log.js';
import type { ScannerState } from '../../firmware-bridge/scanner/opcua/scanner-values.js';
import type { Logger } from '../../core/logger.js';

/** Bits of the simulator's Interlocks mask: a set bit is an open interlock. */
export const SIM_INTERLOCKS = {
  doors: 1 << 0,
  exclusionZone: 1 << 1,
  emergencyStop: 1 << 2,
  warningLamps: 1 << 3,
  keySwitch: 1 << 4,
} as const;
export type SimInterlock = keyof typeof SIM_INTERLOCKS;

/** Names of the bits, bit 0 first, as scanner.opcua.interlockNames would list them for this simulator. */
export const SIM_INTERLOCK_NAMES: readonly string[] = [
  'doors',
  'exclusion-zone',
  'emergency-stop',
  'warning-lamps',
  'key-switch',
];

type SimVariable = 'state' | 'interlocks' | 'fault' | 'speed' | 'radiation';

export const SIM_RESOURCE_PATH = '/checkpoint-edge/scanner-sim';

export interface ScannerOpcuaServerOptions {
  /** TCP port; 0 = any free port (read it from `port` after start). */
  port?: number;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Host name in the endpoint URL and certificate; default: host unless it is a wildcard address. */
  hostname?: string;
  resourcePath?: string;
  /**
   * Folder of the server's certificate stores (server/ and user/ under it). Default: a new
   * temporary folder, removed at stop. Give a fixed one to keep the same certificate across
   * restarts (a client that trusts it goes on trusting it).
   */
  pkiDir?: string;
  /** Trust every client certificate presented (a simulator's default: true). */
  acceptUnknownClientCertificates?: boolean;
  /** Where node-opcua's own messages go; default: left as node-opcua prints them. */
  log?: Logger;
  /** State at start; default Ready. */
  initialState?: ScannerState;
  /** Security it offers; default every mode (None, Sign, SignAndEncrypt) and policy the client knows. */
  securityModes?: ('None' | 'Sign' | 'SignAndEncrypt')[];
  securityPolicies?: ('None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss')[];
  /** User names and passwords it accepts besides anonymous sessions (more with addUser). */
  users?: Record<string, string>;
}

/** A method call the simulator answered. */
export interface SimMethodCall {
  method: 'Arm' | 'Abort';
  statusCode: string;
  at: string;
}

export interface ScannerOpcuaServerEvents {
  state: [state: ScannerState, previous: ScannerState];
  call: [call: SimMethodCall];
}

/** A TCP port free now on host, for a simulator whose endpoint must be known before it has started. */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const probe = createServer();
  probe.listen(0, host);
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The endpoint URL a simulator on host:port serves. */
export function simEndpointUrl(host: string, port: number, resourcePath = SIM_RESOURCE_PATH): string {
  return `opc.tcp://${host}:${port}${resourcePath}`;
}

/**
 * An OPC UA server that behaves like a drive-through scanner's control system: a Scanner object
 * (ns=1;s=Scanner) with State (String: Off, Ready, Armed, Scanning, Fault), Interlocks (UInt32,
 * a set bit is an open interlock), Fault (String, the fault text; browse name FaultText),
 * VehicleSpeed (Double, km/h), RadiationOn (Boolean) and the methods Arm and Abort.
 *
 * State machine: Off -powerOn-> Ready -Arm-> Armed -beginScan-> Scanning -endScan-> Ready.
 * Abort: Armed/Scanning -> Ready. A fault (injectFault, or an interlock opened while Armed or
 * Scanning) -> Fault, radiation off; clearFault -> Ready. Arm is refused with BadInvalidState
 * unless Ready with every interlock closed.
 */
export class ScannerOpcuaServer extends EventEmitter<ScannerOpcuaServerEvents> {
  readonly #options: ScannerOpcuaServerOptions;
  #server: OPCUAServer | null = null;
  #serverCm: OPCUACertificateManager | null = null;
  #pkiDir: string | null = null;
  #ownsPkiDir = false;
  #vars: Record<SimVariable, UAVariable> | null = null;
  #state: ScannerState;
  #interlocks = 0;
  #fault = '';
  #speed = 0;
  #radiation = false;
  readonly calls: SimMethodCall[] = [];
  readonly #users = new Map<string, string>();

  constructor(opts: ScannerOpcuaServerOptions = {}) {
    super();
    this.#options = opts;
    this.#state = opts.initialState ?? 'Ready';
    for (const [user, password] of Object.entries(opts.users ?? {})) this.#users.set(user, password);
  }

  /** Accepts this user name and password from now on (anonymous sessions stay accepted). */
  addUser(user: string, password: string): void {
    this.#users.set(user, password);
  }

  get state(): ScannerState {
    return this.#state;
  }

  get interlocks(): number {
    return this.#interlocks;
  }

  get fault(): string {
    return this.#fault;
  }

  get radiationOn(): boolean {
    return this.#radiation;
  }

  /** The port it listens on (after start). */
  get port(): number {
    const url = this.endpointUrl;
    return Number(new URL(url.replace(/^opc\.tcp:/, 'http:')).port);
  }

  get endpointUrl(): string {
    if (!this.#server) throw new Error('OPC UA scanner simulator: not started');
    return this.#server.getEndpointUrl();
  }

  /** The server's own certificate (PEM file), which a client puts in its trusted/certs/ to trust this server. */
  get certificateFile(): string {
    if (!this.#pkiDir) throw new Error('OPC UA scanner simulator: not started');
    return join(this.#pkiDir, 'server', 'own', 'certs', 'certificate.pem');
  }

  /** Starts listening; returns the endpoint URL. Takes a second or two (node-opcua loads its standard address space). */
  async start(): Promise<string> {
    if (this.#server) return this.endpointUrl;
    if (this.#options.log) routeOpcuaLogs(this.#options.log);
    const host = this.#options.host ?? '127.0.0.1';
    if (this.#options.pkiDir) {
      this.#pkiDir = resolve(this.#options.pkiDir);
      mkdirSync(this.#pkiDir, { recursive: true });
    } else {
      this.#pkiDir = mkdtempSync(join(tmpdir(), 'scanner-opcua-sim-'));
      this.#ownsPkiDir = true;
    }
    const accept = this.#options.acceptUnknownClientCertificates ?? true;
    const cm = (name: string) =>
      new OPCUACertificateManager({
        rootFolder: join(this.#pkiDir!, name),
        automaticallyAcceptUnknownCertificate: accept,
        disableFileWatchers: true,
        keySize: 2048,
      });
    const wildcard = host === '0.0.0.0' || host === '::';
    const serverCm = cm('server');
    this.#serverCm = serverCm;
    const server = new OPCUAServer({
      port: this.#options.port ?? 0,
      host,
      ...(this.#options.hostname ? { hostname: this.#options.hostname } : wildcard ? {} : { hostname: host }),
      resourcePath: this.#options.resourcePath ?? SIM_RESOURCE_PATH,
      serverCertificateManager: serverCm,
      userCertificateManager: cm('user'),
      isAuditing: false,
      allowAnonymous: true,
      userManager: {
        isValidUser: (user: string, password: string) => this.#users.has(user) && this.#users.get(user) === password,
      },
      securityModes: (this.#options.securityModes ?? ['None', 'Sign', 'SignAndEncrypt']).map(
        (m) => MessageSecurityMode[m],
      ),
      securityPolicies: (
        this.#options.securityPolicies ?? ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']
      ).map((p) => SecurityPolicy[p]),
      buildInfo: {
        productName: 'checkpoint-edge scanner simulator',
        manufacturerName: 'checkpoint-edge',
        softwareVersion: '1',
      },
    });
    try {
      await server.initialize();
      this.#build(server);
      await server.start();
    } catch (err) {
      await server.shutdown(0).catch(() => undefined);
      this.#cleanup();
      throw new Error(
        `OPC UA scanner simulator cannot listen on ${host}:${this.#options.port ?? 0}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.#server = server;
    if (!existsSync(this.certificateFile))
      throw new Error(`OPC UA scanner simulator: no server certificate at ${this.certificateFile}`);
    return this.endpointUrl;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    this.#serverCm = null;
    this.#vars = null;
    if (server) await server.shutdown(0);
    this.#cleanup();
  }

  /** The secure channels now open, with their security: to check what a client really negotiated. */
  channels(): { securityMode: string; securityPolicy: string }[] {
    if (!this.#server) return [];
    return this.#server.endpoints
      .flatMap((e) => e.getChannels())
      .map((c) => ({
        securityMode: MessageSecurityMode[c.securityMode],
        securityPolicy: String(c.securityPolicy).replace(/^.*#/, ''),
      }));
  }

  /** Whether client certificates it does not know are trusted on sight (the default) or refused. */
  set acceptUnknownClientCertificates(accept: boolean) {
    if (!this.#serverCm) throw new Error('OPC UA scanner simulator: not started');
    this.#serverCm.automaticallyAcceptUnknownCertificate = accept;
  }

  /** Puts a client certificate (PEM file) in the server's trust list, as a scanner's administrator would. */
  async trustClientCertificate(pemFile: string): Promise<void> {
    if (!this.#serverCm) throw new Error('OPC UA scanner simulator: not started');
    await this.#serverCm.trustCertificate(pemToDer(readFileSync(pemFile, 'utf8')));
  }

  powerOn(): void {
    if (this.#state === 'Off') this.#set('Ready');
  }

  powerOff(): void {
    this.#radiationOff();
    this.#setSpeed(0);
    this.#set('Off');
  }

  /** Sets the whole interlock mask. Opening one while Armed or Scanning trips the scanner into Fault. */
  setInterlocks(mask: number): void {
    this.#interlocks = mask >>> 0;
    this.#write('interlocks', DataType.UInt32, this.#interlocks);
    if (this.#interlocks !== 0 && (this.#state === 'Armed' || this.#state === 'Scanning')) {
      const open = SIM_INTERLOCK_NAMES.filter((_, bit) => (this.#interlocks >>> bit) & 1);
      this.injectFault(`interlock opened: ${open.join(', ') || `mask 0x${this.#interlocks.toString(16)}`}`);
    }
  }

  openInterlock(name: SimInterlock): void {
    this.setInterlocks(this.#interlocks | SIM_INTERLOCKS[name]);
  }

  closeInterlock(name: SimInterlock): void {
    this.setInterlocks(this.#interlocks & ~SIM_INTERLOCKS[name]);
  }

  /** Arms it as the Arm method would (the scanner's own panel); returns the status code name. */
  arm(): string {
    return this.#arm().statusCode.name;
  }

  /** Aborts as the Abort method would; returns what it did. */
  abort(): string {
    return this.#abort().message;
  }

  /** A vehicle enters the beam of an armed scanner: Scanning, radiation on. */
  beginScan(speedKmh = 5): void {
    if (this.#state !== 'Armed')
      throw new Error(`OPC UA scanner simulator: beginScan needs state Armed, it is ${this.#state}`);
    this.#setSpeed(speedKmh);
    this.#radiation = true;
    this.#write('radiation', DataType.Boolean, true);
    this.#set('Scanning');
  }

  /** The vehicle has passed: radiation off, Ready. */
  endScan(): void {
    if (this.#state !== 'Scanning')
      throw new Error(`OPC UA scanner simulator: endScan needs state Scanning, it is ${this.#state}`);
    this.#radiationOff();
    this.#setSpeed(0);
    this.#set('Ready');
  }

  injectFault(text: string): void {
    this.#radiationOff();
    this.#fault = text;
    this.#write('fault', DataType.String, text);
    this.#set('Fault');
  }

  clearFault(): void {
    this.#fault = '';
    this.#write('fault', DataType.String, '');
    if (this.#state === 'Fault') this.#set('Ready');
  }

  setSpeed(kmh: number): void {
    this.#setSpeed(kmh);
  }

  /** Forces a state, bypassing the state machine (for tests of odd servers). */
  forceState(state: ScannerState): void {
    this.#set(state);
  }

  #build(server: OPCUAServer): void {
    const addressSpace = server.engine.addressSpace!;
    const ns = addressSpace.getOwnNamespace();
    const scanner = ns.addObject({
      nodeId: 's=Scanner',
      browseName: 'Scanner',
      organizedBy: addressSpace.rootFolder.objects,
    });
    // minimumSamplingInterval 0: values are written on change, so a monitored item sees each change at once.
    const variable = (id: string, browseName: string, dataType: string, description: string) =>
      ns.addVariable({
        componentOf: scanner,
        nodeId: `s=Scanner.${id}`,
        browseName,
        dataType,
        description,
        minimumSamplingInterval: 0,
      });
    this.#vars = {
      state: variable('State', 'State', 'String', 'Off, Ready, Armed, Scanning or Fault'),
      interlocks: variable(
        'Interlocks',
        'Interlocks',
        'UInt32',
        `Open interlocks, one bit each: ${SIM_INTERLOCK_NAMES.map((n, i) => `${i}=${n}`).join(', ')}`,
      ),
      fault: variable('Fault', 'FaultText', 'String', 'Active fault text, empty when none'),
      speed: variable('VehicleSpeed', 'VehicleSpeed', 'Double', 'Vehicle speed in km/h'),
      radiation: variable('RadiationOn', 'RadiationOn', 'Boolean', 'X-ray source emitting'),
    };
    this.#write('state', DataType.String, this.#state);
    this.#write('interlocks', DataType.UInt32, this.#interlocks);
    this.#write('fault', DataType.String, this.#fault);
    this.#write('speed', DataType.Double, this.#speed);
    this.#write('radiation', DataType.Boolean, this.#radiation);

    const message = [{ name: 'Message', dataType: DataType.String, description: 'What the scanner did' }];
    const arm = ns.addMethod(scanner, {
      nodeId: 's=Scanner.Arm',
      browseName: 'Arm',
      inputArguments: [],
      outputArguments: message,
    });
    arm.bindMethod(async (_inputs: Variant[], _context: unknown) => {
      const r = this.#arm();
      return this.#answer('Arm', r.statusCode, r.message);
    });
    const abort = ns.addMethod(scanner, {
      nodeId: 's=Scanner.Abort',
      browseName: 'Abort',
      inputArguments: [],
      outputArguments: message,
    });
    abort.bindMethod(async (_inputs: Variant[], _context: unknown) => {
      const r = this.#abort();
      return this.#answer('Abort', r.statusCode, r.message);
    });
  }

  #arm(): { statusCode: StatusCode; message?: string } {
    if (this.#state !== 'Ready' || this.#interlocks !== 0) return { statusCode: StatusCodes.BadInvalidState };
    this.#set('Armed');
    return { statusCode: StatusCodes.Good, message: 'armed' };
  }

  #abort(): { statusCode: StatusCode; message: string } {
    // An abort is never refused: where there is nothing to abort, it does nothing.
    if (this.#state !== 'Armed' && this.#state !== 'Scanning')
      return { statusCode: StatusCodes.Good, message: `nothing to abort (${this.#state})` };
    this.#radiationOff();
    this.#setSpeed(0);
    this.#set('Ready');
    return { statusCode: StatusCodes.Good, message: 'aborted' };
  }

  #answer(method: SimMethodCall['method'], statusCode: StatusCode, text?: string) {
    const call = { method, statusCode: statusCode.name, at: new Date().toISOString() };
    this.calls.push(call);
    this.emit('call', call);
    return {
      statusCode,
      outputArguments: text === undefined ? [] : [new Variant({ dataType: DataType.String, value: text })],
    };
  }

  #set(state: ScannerState): void {
    const previous = this.#state;
    this.#state = state;
    this.#write('state', DataType.String, state);
    if (previous !== state) this.emit('state', state, previous);
  }

  #setSpeed(kmh: number): void {
    this.#speed = kmh;
    this.#write('speed', DataType.Double, kmh);
  }

  #radiationOff(): void {
    this.#radiation = false;
    this.#write('radiation', DataType.Boolean, false);
  }

  #write(key: SimVariable, dataType: DataType, value: unknown): void {
    this.#vars?.[key].setValueFromSource(new Variant({ dataType, value }));
  }

  #cleanup(): void {
    if (this.#ownsPkiDir && this.#pkiDir) rmSync(this.#pkiDir, { recursive: true, force: true });
    if (this.#ownsPkiDir) this.#pkiDir = null;
    this.#ownsPkiDir = false;
  }
}

function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error('OPC UA scanner simulator: not a PEM certificate');
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}
