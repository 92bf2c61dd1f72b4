import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lane } from '../../../../app/context.js';
import type { AlertEvent } from '../../../../core/domain.js';
import { alertFor } from '../../../../pipeline/lane-pipeline.js';
import { spawnCli } from '../../../helpers/cli.js';
import { fakeScan, laneOnBroker, skipWithoutMosquitto, type MosquittoBroker, waitFor } from './helpers.js';

const cli = (args: string[]) => spawnCli(['central', ...args]);

async function exitCode(child: ReturnType<typeof cli>): Promise<number> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
}

describe.skipIf(skipWithoutMosquitto)('checkpoint-edge central', () => {
  let broker: MosquittoBroker;
  let lane: Lane;
  let events: AlertEvent[];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ broker, lane, events, stop } = await laneOnBroker('site-c'));
  });
  afterAll(async () => {
    await stop?.();
  });

  it('watches alerts and health live, and acknowledges and dispositions typed commands remotely', async () => {
    const watch = cli(['--mqtt-url', broker.url, '--operator', 'hq-bob']);
    try {
      await waitFor('the watch to start', () => watch.text().includes('central: watching'), 20_000);
      await waitFor(
        'the retained availability and health',
        () => watch.text().includes('site-c/lane-1 ONLINE') && watch.text().includes('site-c/lane-1 HEALTH'),
      );
      const result = fakeScan('site-c', 'lane-1', 7, 'person');
      lane.bus.emit('scan.decided', { result });
      const alert = alertFor(result)!;
      const id = alert.alertId;
      lane.bus.emit('alert.raised', alert);
      await waitFor('the alert line', () =>
        watch.text().includes(`site-c/lane-1 ALERT CRITICAL person-suspected ${id}`),
      );
      expect(watch.text()).toContain('evidence: https://lane.example:8080/evidence/lane-1-scan-7/scan.jpg');
      watch.stdin!.write(`ack ${id} on our way\n`);
      await waitFor('the ack event line', () =>
        watch.text().includes(`EVENT ${id} acknowledged by central-hq for hq-bob (central): on our way`),
      );
      // The answer and the event travel separately (the event through the outbox): either may come first.
      await waitFor('the ack response line', () => /RESPONSE ack \[[0-9a-f-]+\] ok/.test(watch.text()));
      watch.stdin!.write(`dispose site-c/lane-1 ${id} sneezing\n`);
      await waitFor('a refusal said plainly', () => watch.text().includes('expected one of person-found'));
      watch.stdin!.write(`dispose site-c/lane-1 ${id} person-found two adults\n`);
      await waitFor('the disposition event line', () =>
        watch.text().includes(`EVENT ${id} person-found by central-hq for hq-bob (central): two adults`),
      );
      expect(events.map((e) => [e.type, e.origin, e.operator, e.onBehalfOf])).toEqual([
        ['acknowledged', 'central', 'central-hq', 'hq-bob'],
        ['person-found', 'central', 'central-hq', 'hq-bob'],
      ]);
      watch.stdin!.write('quit\n');
      expect(await exitCode(watch)).toBe(0);
    } catch (err) {
      throw new Error(`${(err as Error).message}\ncentral printed:\n${watch.text()}`);
    } finally {
      watch.kill('SIGKILL');
    }
  });

  it('sends one command and exits 0 on ok, 1 on an error answer', async () => {
    const ok = cli(['status', '--mqtt-url', broker.url, '--site', 'site-c', '--lane', 'lane-1']);
    expect(await exitCode(ok)).toBe(0);
    expect(ok.text()).toContain('site-c/lane-1 status: ok {"schemaVersion":1');
    const bad = cli([
      'ack',
      'no-such-alert',
      '--mqtt-url',
      broker.url,
      '--site',
      'site-c',
      '--lane',
      'lane-1',
      '--operator',
      'hq',
    ]);
    expect(await exitCode(bad)).toBe(1);
    expect(bad.text()).toContain('ERROR: no alert no-such-alert was raised on lane lane-1');
  });
});
