import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/logger.js';
import { ServiceHost, type Service } from '../../../core/service.js';

function svc(
  name: string,
  log: string[],
  opts: { failStart?: boolean; hangStop?: boolean; failStop?: boolean } = {},
): Service {
  return {
    name,
    async start() {
      if (opts.failStart) throw new Error(`${name} cannot start`);
      log.push(`start ${name}`);
    },
    async stop() {
      if (opts.hangStop) return new Promise(() => {});
      if (opts.failStop) throw new Error(`${name} stop failed`);
      log.push(`stop ${name}`);
    },
  };
}

describe('ServiceHost', () => {
  it('starts in order and stops in reverse order (outbox last)', async () => {
    const log: string[] = [];
    const host = new ServiceHost(silentLogger(), { stopTimeoutMs: 500 });
    host.add(svc('outbox', log), svc('http', log), svc('pipeline', log), svc('scanner', log));
    await host.start();
    const report = await host.stop();
    expect(log).toEqual([
      'start outbox',
      'start http',
      'start pipeline',
      'start scanner',
      'stop scanner',
      'stop pipeline',
      'stop http',
      'stop outbox',
    ]);
    expect(report.map((r) => r.name)).toEqual(['scanner', 'pipeline', 'http', 'outbox']);
    expect(report.every((r) => r.ok)).toBe(true);
  });

  it('a service that fails to start stops the ones already started and names itself', async () => {
    const log: string[] = [];
    const host = new ServiceHost(silentLogger(), { stopTimeoutMs: 500 });
    host.add(svc('a', log), svc('b', log, { failStart: true }), svc('c', log));
    await expect(host.start()).rejects.toThrow(/service b failed to start: b cannot start/);
    expect(log).toEqual(['start a', 'stop a']);
  });

  it('bounds each stop in time and goes on past a hanging or failing service', async () => {
    const log: string[] = [];
    const host = new ServiceHost(silentLogger(), { stopTimeoutMs: 50 });
    host.add(
      svc('first', log),
      svc('hangs', log, { hangStop: true }),
      svc('fails', log, { failStop: true }),
      svc('last', log),
    );
    await host.start();
    const t0 = Date.now();
    const report = await host.stop();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(log.slice(4)).toEqual(['stop last', 'stop first']);
    expect(report.find((r) => r.name === 'hangs')?.ok).toBe(false);
    expect(report.find((r) => r.name === 'fails')?.ok).toBe(false);
    expect(report.find((r) => r.name === 'first')?.ok).toBe(true);
  });
});
