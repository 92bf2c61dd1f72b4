import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lane } from '../../../../app/context.js';
import type { AlertEvent } from '../../../../core/domain.js';
import { alertFor } from '../../../../pipeline/lane-pipeline.js';
import { spawnCli } from '../../../helpers/cli.js';
import { fakeScan, laneOnBroker, type MosquittoBroker, waitFor, skipWithoutMosquitto } from './helpers.js';

/** `checkpoint-edge central` watching; stdin a pipe (to type commands) or /dev/null. */
const watcher = (url: string, stdin: 'pipe' | 'ignore') =>
  spawnCli(['central', '--mqtt-url', url, '--operator', 'hq-night'], { stdin });

/** HH:MM:SS of each line, in print order: one clock means they never go backwards. */
function clocks(text: string): string[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(0, 8));
}

// The watch must outlive the client's 10 s connect timeout by far, so this test waits in real time.
const WATCH_S = 62;

describe.skipIf(skipWithoutMosquitto)('checkpoint-edge central keeps watching', () => {
  let broker: MosquittoBroker;
  let lane: Lane;
  let events: AlertEvent[];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ broker, lane, events, stop } = await laneOnBroker('site-w'));
  });
  afterAll(async () => {
    await stop?.();
  });

  it(
    `for ${WATCH_S} s and through a broker restart, then prints a new alert and sends a command; stdin at /dev/null does not end it`,
    async () => {
      const typed = watcher(broker.url, 'pipe');
      const headless = watcher(broker.url, 'ignore');
      const both = [typed, headless];
      try {
        for (const w of both)
          await waitFor(
            'the watch to start',
            () => w.text().includes('central: watching') && w.text().includes('site-w/lane-1 ONLINE'),
            20_000,
          );
        const first = fakeScan('site-w', 'lane-1', 1, 'person');
        lane.bus.emit('scan.decided', { result: first });
        const firstAlert = alertFor(first)!;
        lane.bus.emit('alert.raised', firstAlert);
        for (const w of both)
          await waitFor('the first alert', () =>
            w.text().includes(`ALERT CRITICAL person-suspected ${firstAlert.alertId}`),
          );

        await new Promise((r) => setTimeout(r, WATCH_S * 1000));
        for (const w of both) {
          expect(w.exitCode).toBeNull();
          expect(w.text()).not.toMatch(/lost the broker|disconnecting|MQTT error/);
        }

        await broker.stop();
        for (const w of both)
          await waitFor(
            'the loss said',
            () => w.text().includes(`lost the broker ${broker.url}; reconnecting`),
            10_000,
          );
        await new Promise((r) => setTimeout(r, 2000));
        await broker.start(); // the same port
        for (const w of both)
          await waitFor(
            'the reconnection said',
            () => /reconnected to \S+ after \d+ s; still watching/.test(w.text()),
            20_000,
          );
        await waitFor('the lane back online', () => lane.health.get('mqtt')?.state === 'ok', 20_000);

        const second = fakeScan('site-w', 'lane-1', 2, 'person');
        lane.bus.emit('scan.decided', { result: second });
        const secondAlert = alertFor(second)!;
        const id = secondAlert.alertId;
        lane.bus.emit('alert.raised', secondAlert);
        for (const w of both)
          await waitFor(
            'the alert after the restart',
            () => w.text().includes(`ALERT CRITICAL person-suspected ${id}`),
            20_000,
          );

        typed.stdin!.write(`ack ${id} seen after the restart\n`);
        await waitFor(
          'the ack event',
          () =>
            new RegExp(`EVENT ${id} acknowledged by \\S+ for hq-night \\(central\\): seen after the restart`).test(
              typed.text(),
            ),
          20_000,
        );
        await waitFor('the ack response', () => /RESPONSE ack \[[0-9a-f-]+\] ok/.test(typed.text()));
        expect(events.map((e) => [e.alertId, e.type, e.origin])).toEqual([[id, 'acknowledged', 'central']]);

        expect(headless.text()).toContain('(stdin closed); still watching');
        expect(headless.exitCode).toBeNull();
        for (const w of both) {
          const c = clocks(w.text());
          expect(c).toEqual([...c].sort());
        }
      } catch (err) {
        throw new Error(
          `${(err as Error).message}\ntyped central printed:\n${typed.text()}\nheadless central printed:\n${headless.text()}`,
        );
      } finally {
        for (const w of both) w.kill('SIGKILL');
      }
    },
    (WATCH_S + 90) * 1000,
  );
});
