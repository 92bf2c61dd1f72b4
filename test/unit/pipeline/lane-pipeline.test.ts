import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Detector, DetectorStatus, StreamingAnalysis } from '../../../core/detector.js';
import { UnavailableDetector } from '../../../core/detector.js';
import type { Alert, CompletedScan, Detection, LineBatch, ScanMeta, ScanResult } from '../../../core/domain.js';
import { EventBus } from '../../../core/event-bus.js';
import type { LaneEvents } from '../../../core/events.js';
import { isUuidv7 } from '../../../core/ids.js';
import { createLogger, type Logger, silentLogger } from '../../../core/logger.js';
import { LaneHealth } from '../../../pipeline/lane-health.js';
import { alertThreshold, DEFAULT_ALERT, LanePipeline, type Thresholds } from '../../../pipeline/lane-pipeline.js';
import { SqliteScanJournal } from '../../../pipeline/scan-journal.js';

const CH = 4;
const meta = (scanId: string): ScanMeta => ({
  scanId,
  laneId: 'l1',
  startedAt: '2026-01-01T00:00:00.000Z',
  channels: CH,
  energies: 1,
  pixelMm: 5,
  source: 'stream',
});
const batch = (scanId: string, first: number, count: number): LineBatch => ({
  scanId,
  firstIndex: first,
  count,
  channels: CH,
  high: new Uint16Array(count * CH).fill(30000),
});
const completed = (scanId: string, lines: number): CompletedScan => ({
  meta: meta(scanId),
  endedAt: '2026-01-01T00:00:05.000Z',
  image: {
    width: lines,
    height: CH,
    pixelMm: 5,
    high: new Uint16Array(lines * CH).fill(30000),
    missing: new Uint8Array(lines),
  },
});

/** A detector double that returns a fixed detection and records what it was fed. */
class ScriptedDetector implements Detector {
  status: DetectorStatus = { state: 'ready', model: { name: 'test', version: '1' } };
  fed = 0;
  cancelled = 0;
  constructor(private readonly result: Detection | Error) {}
  onStatus() {
    return () => {};
  }
  begin(): StreamingAnalysis {
    return {
      pushLines: (b) => {
        this.fed += b.count;
      },
      finish: async () => {
        if (this.result instanceof Error) throw this.result;
        return this.result;
      },
      cancel: () => void this.cancelled++,
    };
  }
}

/** A detector whose analyses finish only when the test releases them, in order. */
function heldDetector() {
  const releases: ((d: Detection) => void)[] = [];
  const detector: Detector = {
    status: { state: 'ready', model: { name: 't', version: '1' } },
    onStatus: () => () => {},
    begin: () => ({ pushLines() {}, cancel() {}, finish: () => new Promise<Detection>((r) => releases.push(r)) }),
  };
  return { detector, release: (i: number, d: Detection) => releases[i](d) };
}

function lane(detector: Detector, thresholds: Thresholds = { alert: 0.5, region: 0.3 }, journalPath?: string) {
  const bus = new EventBus<LaneEvents>(silentLogger());
  const health = new LaneHealth('l1');
  health.attach(bus);
  const results: ScanResult[] = [];
  const alerts: Alert[] = [];
  bus.on('scan.decided', 'test', ({ result }) => void results.push(result));
  bus.on('alert.raised', 'test', (a) => void alerts.push(a));
  const pipeline = new LanePipeline({
    siteId: 's1',
    laneId: 'l1',
    bus,
    detector,
    thresholds,
    log: silentLogger(),
    ...(journalPath ? { openJournal: () => new SqliteScanJournal({ path: journalPath, laneId: 'l1' }) } : {}),
  });
  return { bus, health, results, alerts, pipeline };
}

/** Lets the pipeline's promise chains (the fake detectors answer at once) run to their end; no clock involved. */
const settle = () => new Promise((r) => setImmediate(r));
const detection = (score: number): Detection => ({
  score,
  regions: [
    { x: 1, y: 1, w: 2, h: 2, score },
    { x: 5, y: 1, w: 1, h: 1, score: 0.1 },
  ],
  model: { name: 'test', version: '1' },
  msAfterEnd: 1,
  msInference: 2,
});

/** A logger at info whose lines are kept, parsed, in `lines`. */
function capturedLog(): { log: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const out = new PassThrough();
  out.on('data', (c: Buffer) => {
    for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
  });
  return { log: createLogger({ level: 'info', destination: out }), lines };
}

describe('LanePipeline', () => {
  it('streams lines to the detector and decides "person" at or above the alert threshold, raising an alert', async () => {
    const det = new ScriptedDetector(detection(0.9));
    const { bus, results, alerts, pipeline } = lane(det);
    await pipeline.start();
    bus.emit('scan.begin', meta('a'));
    bus.emit('scan.lines', batch('a', 0, 8));
    bus.emit('scan.lines', batch('a', 8, 8));
    bus.emit('scan.end', completed('a', 16));
    await settle();
    expect(det.fed).toBe(16);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      scanId: 'a',
      outcome: 'completed',
      verdict: 'person',
      score: 0.9,
      lines: 16,
      channels: CH,
    });
    expect(results[0].regions).toHaveLength(1); // the 0.1 region is under the region threshold
    expect(alerts).toMatchObject([{ kind: 'person-suspected', severity: 'critical', scanId: 'a' }]);
    expect(isUuidv7(alerts[0].alertId)).toBe(true);
    expect(alerts[0].message).toContain('1 region(s)');
    expect(pipeline.session.state).toBe('decided');
  });

  it('decides "clear" below the threshold, with no alert', async () => {
    const { bus, results, alerts, pipeline } = lane(new ScriptedDetector(detection(0.2)));
    await pipeline.start();
    bus.emit('scan.begin', meta('b'));
    bus.emit('scan.end', completed('b', 4));
    await settle();
    expect(results[0].verdict).toBe('clear');
    expect(alerts).toEqual([]);
  });

  it("without a lane alert threshold, decides at the model's operating point (else 0.5), and the result names the threshold used", async () => {
    const decide = async (d: Detection, thresholds: Thresholds) => {
      const { bus, results, alerts, pipeline } = lane(new ScriptedDetector(d), thresholds);
      await pipeline.start();
      bus.emit('scan.begin', meta('t'));
      bus.emit('scan.end', completed('t', 4));
      await settle();
      return { result: results[0], alerts: alerts.length };
    };
    const op = (score: number, operatingThreshold?: number): Detection => ({
      ...detection(score),
      ...(operatingThreshold !== undefined ? { operatingThreshold } : {}),
    });
    // The model's operating point 0.7 decides: 0.6 is clear, 0.75 is person.
    expect((await decide(op(0.6, 0.7), { region: 0.3 })).result).toMatchObject({ verdict: 'clear', threshold: 0.7 });
    expect(await decide(op(0.75, 0.7), { region: 0.3 })).toMatchObject({
      result: { verdict: 'person', threshold: 0.7 },
      alerts: 1,
    });
    // A lane's own alert threshold overrides the model's.
    expect((await decide(op(0.6, 0.7), { alert: 0.5, region: 0.3 })).result).toMatchObject({
      verdict: 'person',
      threshold: 0.5,
    });
    // Neither: the fallback.
    expect((await decide(op(DEFAULT_ALERT - 0.01), { region: 0.3 })).result).toMatchObject({
      verdict: 'clear',
      threshold: DEFAULT_ALERT,
    });
    expect((await decide(op(DEFAULT_ALERT), { region: 0.3 })).result).toMatchObject({
      verdict: 'person',
      threshold: DEFAULT_ALERT,
    });
  });

  it("with alert 'held-out', decides at the model's held-out point; a model without one decides at its own point, with a warning", async () => {
    const decide = async (d: Detection) => {
      const { log, lines } = capturedLog();
      const bus = new EventBus<LaneEvents>(silentLogger());
      const results: ScanResult[] = [];
      bus.on('scan.decided', 'test', ({ result }) => void results.push(result));
      const pipeline = new LanePipeline({
        siteId: 's1',
        laneId: 'l1',
        bus,
        detector: new ScriptedDetector(d),
        thresholds: { alert: 'held-out', region: 0.3 },
        log,
      });
      await pipeline.start();
      bus.emit('scan.begin', meta('h'));
      bus.emit('scan.end', completed('h', 4));
      await settle();
      await pipeline.stop();
      const said = lines.filter((l) => l.msg.includes('decides at alert threshold'));
      return { result: results[0], said: said.map(({ level, msg }) => ({ level, msg })) };
    };
    const both = { ...detection(0.9), operatingThreshold: 0.6, heldOutThreshold: 0.95 };
    const held = await decide(both);
    expect(held.result).toMatchObject({ verdict: 'clear', threshold: 0.95 });
    expect(held.said).toEqual([
      {
        level: 30,
        msg: 'lane l1 decides at alert threshold 0.95 (the operating point of model test 1 chosen on families it never trained on (lanes[].thresholds.alert: held-out))',
      },
    ]);
    expect((await decide({ ...both, score: 0.96 })).result).toMatchObject({ verdict: 'person', threshold: 0.95 });
    // The model names no held-out point: its own point decides (it alarms more often, never less), and the lane warns.
    const own = await decide({ ...detection(0.9), operatingThreshold: 0.6 });
    expect(own.result).toMatchObject({ verdict: 'person', threshold: 0.6 });
    expect(own.said).toHaveLength(1);
    expect(own.said[0].level).toBe(40);
    expect(own.said[0].msg).toContain(
      'lanes[].thresholds.alert is held-out, but model test 1 names no held-out operating point (operatingPoint.heldOut in its manifest.json): the operating point of model test 1 instead',
    );
    // Nor any operating point: the default decides.
    const none = await decide(detection(0.55));
    expect(none.result).toMatchObject({ verdict: 'person', threshold: DEFAULT_ALERT });
    expect(none.said[0].level).toBe(40);
    expect(none.said[0].msg).toContain('the default, as the model names no operating point instead');
  });

  it('says at which alert threshold it decides, when first known and when another model changes it', async () => {
    const { log, lines } = capturedLog();
    const results: Detection[] = [
      { ...detection(0.9), operatingThreshold: 0.7 },
      { ...detection(0.2), operatingThreshold: 0.7 },
      { ...detection(0.9), model: { name: 'other', version: '2' }, operatingThreshold: 0.6 },
    ];
    const detector: Detector = {
      status: { state: 'ready', model: { name: 'test', version: '1' } },
      onStatus: () => () => {},
      begin: () => ({ pushLines() {}, cancel() {}, finish: async () => results.shift()! }),
    };
    const bus = new EventBus<LaneEvents>(silentLogger());
    const pipeline = new LanePipeline({
      siteId: 's1',
      laneId: 'l1',
      bus,
      detector,
      thresholds: { region: 0.3 },
      log,
    });
    await pipeline.start();
    for (const id of ['t1', 't2', 't3']) {
      bus.emit('scan.begin', meta(id));
      bus.emit('scan.end', completed(id, 4));
      await settle();
    }
    expect(lines.map((l) => l.msg).filter((m) => m.includes('decides at alert threshold'))).toEqual([
      'lane l1 decides at alert threshold 0.7 (the operating point of model test 1)',
      'lane l1 decides at alert threshold 0.6 (the operating point of model other 2)',
    ]);
  });

  it('never reports a scan as clear when detection is unavailable: verdict unavailable and a critical alert', async () => {
    const { bus, results, alerts, pipeline, health } = lane(
      new UnavailableDetector('model file models/x/model.onnx is missing'),
    );
    await pipeline.start();
    expect(health.snapshot().overall).toBe('detection-unavailable');
    expect(health.get('model')?.detail).toContain('model file models/x/model.onnx is missing');
    bus.emit('scan.begin', meta('c'));
    bus.emit('scan.end', completed('c', 4));
    await settle();
    expect(results[0]).toMatchObject({ verdict: 'unavailable', score: null });
    expect(results[0].threshold).toBeUndefined();
    expect(results[0].unavailableReason).toContain('missing');
    expect(alerts).toMatchObject([{ kind: 'detection-unavailable', severity: 'critical' }]);
  });

  it('an inference error makes that scan unavailable, not clear', async () => {
    const { bus, results, alerts, pipeline } = lane(new ScriptedDetector(new Error('onnxruntime: out of memory')));
    await pipeline.start();
    bus.emit('scan.begin', meta('d'));
    bus.emit('scan.end', completed('d', 4));
    await settle();
    expect(results[0].verdict).toBe('unavailable');
    expect(results[0].unavailableReason).toBe('inference failed: onnxruntime: out of memory');
    expect(alerts[0].kind).toBe('detection-unavailable');
  });

  for (const reason of ['scanner-fault', 'link-lost', 'timeout'] as const) {
    it(`reports a scan aborted with ${reason} as aborted, cancelling its analysis`, async () => {
      const det = new ScriptedDetector(detection(0.9));
      const { bus, results, alerts, pipeline } = lane(det);
      await pipeline.start();
      bus.emit('scan.begin', meta('e'));
      bus.emit('scan.lines', batch('e', 0, 4));
      bus.emit('scan.aborted', { scanId: 'e', laneId: 'l1', reason, detail: 'test', at: '2026-01-01T00:00:01.000Z' });
      await settle();
      expect(det.cancelled).toBe(1);
      expect(results[0]).toMatchObject({
        scanId: 'e',
        outcome: 'aborted',
        abortReason: reason,
        verdict: 'unavailable',
      });
      expect(alerts[0]).toMatchObject({ kind: 'scan-aborted', scanId: 'e' });
      expect(pipeline.session.state).toBe('aborted');
    });
  }

  it('an aborted scan whose lines were read at a pitch of their own says so, as a decided one does', async () => {
    const { bus, results, pipeline } = lane(new ScriptedDetector(detection(0.9)));
    await pipeline.start();
    bus.emit('scan.begin', { ...meta('p'), lineMm: 10 });
    bus.emit('scan.aborted', {
      scanId: 'p',
      laneId: 'l1',
      reason: 'timeout',
      detail: 'test',
      at: '2026-01-01T00:00:01.000Z',
    });
    await settle();
    expect(results[0]).toMatchObject({ outcome: 'aborted', lineMm: 10 });
  });

  it('a new scan beginning before the previous one ended aborts the previous one (link-lost), losing neither', async () => {
    const { bus, results, pipeline } = lane(new ScriptedDetector(detection(0.1)));
    await pipeline.start();
    bus.emit('scan.begin', meta('f'));
    bus.emit('scan.begin', meta('g'));
    bus.emit('scan.end', completed('g', 4));
    await settle();
    expect(results.map((r) => [r.scanId, r.outcome])).toEqual([
      ['f', 'aborted'],
      ['g', 'completed'],
    ]);
  });

  it('attaches a plate read during the scan to its result', async () => {
    const { bus, results, pipeline } = lane(new ScriptedDetector(detection(0.1)));
    await pipeline.start();
    bus.emit('scan.begin', meta('h'));
    bus.emit('vehicle.plate', { laneId: 'l1', plate: 'AB-123-CD', at: 'now' });
    bus.emit('scan.end', completed('h', 4));
    await settle();
    expect(results[0].vehicle?.plate).toBe('AB-123-CD');
  });

  it('carries the watchlist hits on its vehicle: raised during the scan, or on a read held for it, but not those on another read', async () => {
    const { bus, results, pipeline } = lane(new ScriptedDetector(detection(0.9)));
    await pipeline.start();
    const hit = (value: string, entryId: string) => ({
      listId: 'national',
      listVersion: 1,
      score: 1,
      entry: {
        id: entryId,
        plate: value,
        country: 'DE',
        category: 'stolen-vehicle',
        action: 'stop and search',
        priority: 1,
        source: 'police',
        covert: false,
      },
      read: { value, kind: 'plate' as const, confidence: 0.9, at: 'now', via: 'anpr' },
    });
    const watchlistAlert = (scanId: string | null, value: string, entryId: string): Alert => ({
      alertId: `wl-${entryId}`,
      scanId,
      laneId: 'l1',
      siteId: 's1',
      raisedAt: 'now',
      kind: 'watchlist',
      severity: 'critical',
      score: 1,
      regions: [],
      message: 'hit',
      evidence: [],
      watchlist: hit(value, entryId),
    });
    // Between vehicles: a hit on a read that is then attached to the next scan, and one on a read that is not.
    bus.emit('alert.raised', watchlistAlert(null, 'HELD1', 'e-held'));
    bus.emit('alert.raised', watchlistAlert(null, 'OTHER1', 'e-other'));
    bus.emit('scan.begin', meta('w'));
    bus.emit('vehicle.plate', { laneId: 'l1', plate: 'HELD1', at: 'now' });
    bus.emit('alert.raised', watchlistAlert('w', 'IN1', 'e-in'));
    bus.emit('scan.end', completed('w', 4));
    await settle();
    expect(results[0]).toMatchObject({ scanId: 'w', verdict: 'person' });
    expect(results[0].watchlist?.map((h) => h.entry.id)).toEqual(['e-held', 'e-in']);
  });

  it('stop() waits for a scan being decided so its result is not lost', async () => {
    const held = heldDetector();
    const { bus, results, pipeline } = lane(held.detector);
    await pipeline.start();
    bus.emit('scan.begin', meta('i'));
    bus.emit('scan.end', completed('i', 4));
    let stoppedYet = false;
    const stopped = pipeline.stop().then(() => {
      stoppedYet = true;
    });
    await settle();
    expect(stoppedYet).toBe(false);
    held.release(0, detection(0.7));
    await stopped;
    expect(results.map((r) => r.verdict)).toEqual(['person']);
  });

  it('the next vehicle can begin while the previous scan is still being analysed: both verdicts are published', async () => {
    const held = heldDetector();
    const { bus, results, alerts, pipeline } = lane(held.detector);
    await pipeline.start();
    bus.emit('scan.begin', meta('j'));
    bus.emit('scan.end', completed('j', 4));
    bus.emit('scan.begin', meta('k'));
    bus.emit('vehicle.plate', { laneId: 'l1', plate: 'K-PLATE', at: 'now' });
    expect(pipeline.session.scanId).toBe('k');
    held.release(0, detection(0.8));
    await settle();
    bus.emit('scan.end', completed('k', 4));
    await settle();
    held.release(1, detection(0.1));
    await settle();
    expect(results.map((r) => [r.scanId, r.outcome, r.verdict, r.vehicle?.plate])).toEqual([
      ['j', 'completed', 'person', undefined],
      ['k', 'completed', 'clear', 'K-PLATE'],
    ]);
    expect(alerts.map((a) => [a.scanId, a.kind])).toEqual([['j', 'person-suspected']]);
  });

  it('a scan aborted while being analysed is reported once, as aborted', async () => {
    const held = heldDetector();
    const { bus, results, pipeline } = lane(held.detector);
    await pipeline.start();
    bus.emit('scan.begin', meta('m'));
    bus.emit('scan.end', completed('m', 4));
    bus.emit('scan.aborted', { scanId: 'm', laneId: 'l1', reason: 'scanner-fault', detail: 'late fault', at: 'now' });
    held.release(0, detection(0.9));
    await settle();
    expect(results.map((r) => [r.scanId, r.outcome, r.verdict])).toEqual([['m', 'aborted', 'unavailable']]);
  });

  it('a person verdict with no region located says so in the alert', async () => {
    const { bus, alerts, pipeline } = lane(new ScriptedDetector({ ...detection(0.9), regions: [] }));
    await pipeline.start();
    bus.emit('scan.begin', meta('n'));
    bus.emit('scan.end', completed('n', 4));
    await settle();
    expect(alerts[0].message).toContain('no region located: inspect the whole scan');
  });

  it('a scan open when the process died is reported at the next start as aborted (edge-restarted), once', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'journal-')), 'open-scans.sqlite');
    const held = heldDetector();
    const before = lane(held.detector, undefined, path);
    await before.pipeline.start();
    before.bus.emit('scan.begin', { ...meta('done'), scannerScanId: 'S-1' });
    before.bus.emit('scan.end', completed('done', 4));
    held.release(0, detection(0.1));
    await settle();
    before.bus.emit('scan.begin', { ...meta('open'), scannerScanId: 'S-2' });
    before.bus.emit('scan.lines', batch('open', 0, 8));
    // The process dies here: no stop(), the journal file is left as it is.
    expect(statSync(path).mode & 0o777).toBe(0o600);

    const after = lane(new ScriptedDetector(detection(0.1)), undefined, path);
    await after.pipeline.start();
    await settle();
    expect(after.results.map((r) => [r.scanId, r.scannerScanId, r.outcome, r.abortReason, r.verdict])).toEqual([
      ['open', 'S-2', 'aborted', 'edge-restarted', 'unavailable'],
    ]);
    expect(after.alerts).toMatchObject([{ kind: 'scan-aborted', scanId: 'open', scannerScanId: 'S-2' }]);
    expect(after.alerts[0].message).toContain('S-2');
    await after.pipeline.stop();

    const again = lane(new ScriptedDetector(detection(0.1)), undefined, path);
    await again.pipeline.start();
    await settle();
    expect(again.results).toEqual([]);
    await again.pipeline.stop();
  });

  it('a scan decided when the process died is handed on again with the same result and alert ids, never also as aborted', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'journal-')), 'open-scans.sqlite');
    const bus = new EventBus<LaneEvents>(silentLogger());
    const results: ScanResult[] = [];
    const alerts: Alert[] = [];
    bus.on('scan.decided', 'test', ({ result }) => void results.push(result));
    bus.on('alert.raised', 'test', (a) => void alerts.push(a));
    // The process dies after the result went to the outbox and before the journal entry is cleared:
    // a close that never happens leaves the journal file as such a kill would.
    const dying = new LanePipeline({
      siteId: 's1',
      laneId: 'l1',
      bus,
      detector: new ScriptedDetector(detection(0.9)),
      thresholds: { alert: 0.5, region: 0.3 },
      log: silentLogger(),
      openJournal: () => {
        const j = new SqliteScanJournal({ path, laneId: 'l1' });
        j.close = () => {
          throw new Error('killed before the journal entry was cleared');
        };
        return j;
      },
    });
    await dying.start();
    bus.emit('scan.begin', { ...meta('decided'), scannerScanId: 'S-9' });
    bus.emit('scan.end', completed('decided', 4));
    await settle();
    expect(results).toHaveLength(1);
    expect(alerts).toHaveLength(1);

    const after = lane(new ScriptedDetector(detection(0.1)), undefined, path);
    const again: boolean[] = [];
    after.bus.on('scan.decided', 'test', (d) => void again.push(d.again === true));
    await after.pipeline.start();
    await settle();
    expect(after.results).toEqual(results);
    expect(after.alerts.map((a) => [a.alertId, a.kind])).toEqual([[alerts[0].alertId, 'person-suspected']]);
    expect(again).toEqual([true]);
    await after.pipeline.stop();

    const later = lane(new ScriptedDetector(detection(0.1)), undefined, path);
    await later.pipeline.start();
    await settle();
    expect(later.results).toEqual([]);
    await later.pipeline.stop();
  });

  it('remembers a scan begun by its scanner id and start time, across a restart, for a resent scan', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'journal-')), 'open-scans.sqlite');
    const before = lane(new ScriptedDetector(detection(0.1)), undefined, path);
    await before.pipeline.start();
    before.bus.emit('scan.begin', { ...meta('edge-1'), scannerScanId: 'sim-1-1' });
    before.bus.emit('scan.end', completed('edge-1', 4));
    await settle();
    expect(before.pipeline.begunBefore('sim-1-1', meta('x').startedAt)).toBe('edge-1');
    // The same scanner id at another start time is another vehicle (a scanner that counts from 1 again).
    expect(before.pipeline.begunBefore('sim-1-1', '2026-01-01T00:10:00.000Z')).toBeNull();
    await before.pipeline.stop();

    const after = lane(new ScriptedDetector(detection(0.1)), undefined, path);
    await after.pipeline.start();
    expect(after.pipeline.begunBefore('sim-1-1', meta('x').startedAt)).toBe('edge-1');
    await after.pipeline.stop();
  });

  describe('missing lines', () => {
    /** A completed scan of `lines` lines with `missing` marked missing from line `from`. */
    const gappy = (
      id: string,
      lines: number,
      gaps: [from: number, count: number][],
      declaredLines?: number,
    ): CompletedScan => {
      const c = completed(id, lines);
      for (const [from, count] of gaps) c.image.missing!.fill(1, from, from + count);
      return declaredLines === undefined ? c : { ...c, declaredLines };
    };
    const decide = async (scan: CompletedScan, score = 0.1, thresholds?: Thresholds) => {
      const { bus, results, alerts, pipeline } = lane(new ScriptedDetector(detection(score)), thresholds);
      await pipeline.start();
      bus.emit('scan.begin', meta(scan.meta.scanId));
      bus.emit('scan.end', scan);
      await settle();
      return { result: results[0], alerts };
    };

    it('a scan declared at 2,000 lines of which 100 arrived is unavailable, never clear', async () => {
      const { result, alerts } = await decide(gappy('d', 100, [], 2000));
      expect(result).toMatchObject({ verdict: 'unavailable', missingLines: 1900, lines: 100 });
      expect(result.unavailableReason).toMatch(/^missing lines: 1900 of 2000 lines \(95 %\)/);
      expect(alerts).toMatchObject([{ kind: 'detection-unavailable' }]);
    });

    it('above the share (default 5 %) the verdict is unavailable; at or below it, clear', async () => {
      expect(
        (
          await decide(
            gappy('s6', 1000, [
              [10, 20],
              [100, 20],
              [500, 20],
            ]),
          )
        ).result.verdict,
      ).toBe('unavailable'); // 6 %
      expect(
        (
          await decide(
            gappy('s5', 1000, [
              [10, 25],
              [100, 25],
            ]),
          )
        ).result.verdict,
      ).toBe('clear'); // 5 %, runs of 0.125 m
      expect(
        (
          await decide(
            gappy('s6b', 1000, [
              [10, 20],
              [100, 20],
              [500, 20],
            ]),
            0.1,
            { alert: 0.5, region: 0.3, maxMissingShare: 0.1 },
          )
        ).result.verdict,
      ).toBe('clear');
    });

    it('a run of missing lines longer than a person (default 0.5 m) makes it unavailable even under the share', async () => {
      // 110 lines at 5 mm = 0.55 m, 3.7 % of 3,000 lines.
      const { result } = await decide(gappy('r', 3000, [[1000, 110]]));
      expect(result.verdict).toBe('unavailable');
      expect(result.unavailableReason).toContain('110 consecutive lines (0.55 m');
      expect((await decide(gappy('r2', 3000, [[1000, 90]]))).result.verdict).toBe('clear'); // 0.45 m
    });

    it('measures the run at the line pitch: 90 lines 10 mm apart (lineMm) are 0.9 m, too long', async () => {
      const c = gappy('r3', 3000, [[1000, 90]]);
      const { result } = await decide({ ...c, image: { ...c.image, lineMm: 10 } });
      expect(result).toMatchObject({ verdict: 'unavailable', lineMm: 10 });
      // square pixels: no lineMm
      expect('lineMm' in (await decide(gappy('r4', 3000, []))).result).toBe(false);
      expect(result.unavailableReason).toContain('90 consecutive lines (0.90 m at 10 mm per line)');
    });

    it('a person found in the lines that did arrive is still reported', async () => {
      const { result, alerts } = await decide(gappy('p', 100, [], 2000), 0.9);
      expect(result.verdict).toBe('person');
      expect(alerts).toMatchObject([{ kind: 'person-suspected' }]);
    });
  });
});

describe('alertThreshold', () => {
  const model = { name: 'm', version: '2', sha256: 'x' } as Detection['model'];
  it('names the point a lane that sets none decides at: the operating point, or the held-out point as lane default', () => {
    expect(alertThreshold({}, { model, operatingThreshold: 0.4 })).toEqual({
      value: 0.4,
      source: 'the operating point of model m 2',
    });
    expect(alertThreshold({}, { model, operatingThreshold: 0.96, heldOutThreshold: 0.96 })).toEqual({
      value: 0.96,
      source: 'the held-out point of model m 2, its lane default (operatingPoint.laneDefault)',
    });
    expect(alertThreshold({ alert: 0.5 }, { model, operatingThreshold: 0.96, heldOutThreshold: 0.96 }).value).toBe(0.5);
    expect(alertThreshold({}, { model })).toEqual({
      value: 0.5,
      source: 'the default, as the model names no operating point',
    });
  });
});
