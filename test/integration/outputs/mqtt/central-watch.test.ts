import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../config/load.js';
import type { Lane } from '../../../../app/context.js';
import type { AlertEvent } from '../../../../core/domain.js';
import { alertFor } from '../../../../pipeline/lane-pipeline.js';
import { silentLogger } from '../../../../core/logger.js';
import type { Service } from '../../../../core/service.js';
import { fakeScan, haveMosquitto, MosquittoBroker, mqttSite, siteConfig, waitFor } from './helpers.js';

const root = join(import.meta.dirname, '../../../..');

/** `checkpoint-edge central` watching; stdin a pipe (to type commands) or /dev/null. */
function watcher(url: string, stdin: 'pipe' | 'ignore'): ChildProcess & { text: () => string } {
  const child = spawn(
    process.execPath,
    ['bin/checkpoint-edge.js', 'central', '--mqtt-url', url, '--operator', 'hq-night'],
    { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: [stdin, 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return Object.assign(child, { text: () => out });
}

/** HH:MM:SS of each line, in print order: one clock means they never go backwards. */
function clocks(text: string): string[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(0, 8));
}

// The watch must outlive the client's 10 s connect timeout by far, so this test waits in real time.
const WATCH_S = 62;

describe.skipIf(!haveMosquitto)('checkpoint-edge central keeps watching', () => {
  const broker = new MosquittoBroker();
  const running: Service[] = [];
  let lane: Lane;
  const events: AlertEvent[] = [];

  beforeAll(async () => {
    await broker.start();
    const config = validateConfig(
      siteConfig({
        url: broker.url,
        dataDir: mkdtempSync(join(tmpdir(), 'mqtt-central-watch-')),
        lanes: ['lane-1'],
        site: 'site-w',
      }),
    );
    const s = mqttSite(config, silentLogger());
    lane = s.lanes[0];
    lane.bus.on('alert.event', 'test', (e) => void events.push(e));
    for (const svc of s.services) {
      await svc.start();
      running.push(svc);
    }
    await waitFor('the lane online', () => lane.health.get('mqtt')?.state === 'ok');
  });
  afterAll(async () => {
    for (const s of running.reverse()) await s.stop();
    await broker.stop();
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
