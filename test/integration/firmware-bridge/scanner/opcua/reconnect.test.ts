import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../../core/logger.js';
import { ScannerOpcuaServer, SIM_RESOURCE_PATH } from '../../../../../sim/scanner/opcua-server.js';
import { freePort } from '../../../../helpers/net.js';
import { isOk, makeClient, scannerState, type ClientUnderTest } from './harness.js';

const servers: ScannerOpcuaServer[] = [];
let c: ClientUnderTest | undefined;

afterAll(async () => {
  await c?.dispose();
  await Promise.all(servers.map((s) => s.stop()));
});

describe('scanner OPC UA client reconnection', () => {
  it('waits for a server that is not up yet, and recovers by itself after a server restart', async () => {
    const port = await freePort();
    const endpoint = `opc.tcp://127.0.0.1:${port}${SIM_RESOURCE_PATH}`;

    // 1. No server yet: disconnected, saying it cannot reach it, and trying again.
    c = makeClient({ endpoint });
    const unreachable = c.next('disconnected', (s) => s.state === 'disconnected');
    await c.client.start();
    expect((await unreachable).status.detail).toMatch(new RegExp(`cannot reach ${endpoint.replace(/[.]/g, '\\.')}`));

    // 2. The server comes up: the client connects without help.
    const first = new ScannerOpcuaServer({ port, log: silentLogger() });
    servers.push(first);
    const up = c.next('ok', isOk, 30_000);
    await first.start();
    await up;
    const armed = c.next('Armed', scannerState('Armed'));
    await c.client.arm();
    await armed;

    // 3. The server goes away: disconnected, values unknown.
    const lost = c.next('disconnected', (s) => s.state === 'disconnected');
    await first.stop();
    const l = await lost;
    expect(l.status.detail).toMatch(/lost the connection|cannot reconnect|cannot reach/);
    expect(l.status.info).toMatchObject({ scannerState: null, interlocks: null, radiationOn: null });
    const lostAt = c.statuses.length - 1;

    // 4. A new server on the same port (a restarted scanner, back in Ready): ok again, by itself.
    const second = new ScannerOpcuaServer({ port, log: silentLogger() });
    servers.push(second);
    const back = c.next('ok Ready', (s) => isOk(s) && s.info?.scannerState === 'Ready', 30_000);
    await second.start();
    const b = await back;
    expect(c.statuses.slice(lostAt).map((s) => s.status.state)).not.toContain('fault');

    // 5. The subscription delivers again: changes on the new server arrive.
    const off = c.next('Off', scannerState('Off'));
    second.powerOff();
    await off;
    const fault = c.next('fault', (s) => s.state === 'fault');
    second.injectFault('high voltage trip');
    expect((await fault).status.detail).toBe('high voltage trip');
    // and methods work on the new session
    second.clearFault();
    await c.reach('Ready', scannerState('Ready'));
    await expect(c.client.arm()).resolves.toMatchObject({ statusCode: 'Good' });
    console.log(
      `opcua: ok again ${(b.at - l.at).toFixed(0)} ms after the disconnect was seen (includes the new server's start)`,
    );
  }, 90_000);
});
