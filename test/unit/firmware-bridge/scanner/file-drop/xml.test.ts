import { describe, expect, it } from 'vitest';
import { parseXml, selectPath } from '../../../../../firmware-bridge/scanner/file-drop/xml.js';
import {
  jsonSidecarPitch,
  parseJsonSidecar,
  parseXmlSidecar,
} from '../../../../../firmware-bridge/scanner/file-drop/sidecar.js';

const VENDOR = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE ScanInfo>
<!-- exported by the scanner -->
<v:ScanInfo xmlns:v="urn:vendor" version="2">
  <v:Scan id="S-9">
    <Time>2026-02-03T04:05:06Z</Time>
    <Pitch unit="mm">4.5</Pitch>
  </v:Scan>
  <Vehicle><LicensePlate><![CDATA[AB <12>]]></LicensePlate><Kind>bus &amp; coach</Kind><Empty/></Vehicle>
</v:ScanInfo>`;

describe('XML reader', () => {
  it('reads elements, attributes, CDATA, entities and prefixed names by simple paths', () => {
    const root = parseXml(VENDOR);
    expect(selectPath(root, 'ScanInfo/Scan/@id')).toBe('S-9');
    expect(selectPath(root, 'v:ScanInfo/v:Scan/Time')).toBe('2026-02-03T04:05:06Z');
    expect(selectPath(root, 'ScanInfo/Vehicle/LicensePlate')).toBe('AB <12>');
    expect(selectPath(root, 'ScanInfo/Vehicle/Kind')).toBe('bus & coach');
    expect(selectPath(root, 'ScanInfo/Vehicle/Empty')).toBe('');
    expect(selectPath(root, 'ScanInfo/Nope')).toBeUndefined();
    expect(selectPath(root, 'Other/Vehicle')).toBeUndefined();
    expect(parseXml('<a>&#65;&#x42;</a>').text).toBe('AB');
  });

  it('rejects malformed XML with where it failed', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/closing tag <\/a> does not match <b>/);
    expect(() => parseXml('<a>')).toThrow(/not closed/);
    expect(() => parseXml('<a>&bogus;</a>')).toThrow(/unknown entity/);
    expect(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a/>')).toThrow(/DTD/);
    expect(() => parseXml('<a/><b/>')).toThrow(/more than one root/);
  });

  it('maps vendor XML to sidecar fields', () => {
    const info = parseXmlSidecar(VENDOR, 'v.xml', {
      scanId: 'ScanInfo/Scan/@id',
      time: 'ScanInfo/Scan/Time',
      pixelMm: 'ScanInfo/Scan/Pitch',
      plate: 'ScanInfo/Vehicle/LicensePlate',
      vehicle: 'ScanInfo/Vehicle/Kind',
    });
    expect(info).toEqual({
      scanId: 'S-9',
      time: '2026-02-03T04:05:06.000Z',
      pixelMm: 4.5,
      vehicle: { plate: 'AB <12>', class: 'bus & coach' },
    });
    expect(parseXmlSidecar(VENDOR, 'v.xml', { lineMm: 'ScanInfo/Scan/Pitch' })).toEqual({ lineMm: 4.5 });
    // speed and line rate for scanner.lineMm: speed (the pitch element read as both here, a number either way)
    expect(
      parseXmlSidecar(VENDOR, 'v.xml', { lineRateHz: 'ScanInfo/Scan/Pitch', speedKmh: 'ScanInfo/Scan/Pitch' }),
    ).toEqual({ lineRateHz: 4.5, vehicle: { speedKmh: 4.5 } });
    expect(() => parseXmlSidecar(VENDOR, 'v.xml', { speedKmh: 'ScanInfo/Vehicle/Kind' })).toThrow(
      /v.xml: speedKmh \(ScanInfo\/Vehicle\/Kind\) "bus & coach" is not a speed in km\/h/,
    );
    expect(() => parseXmlSidecar(VENDOR, 'v.xml', { time: 'ScanInfo/Vehicle/Kind' })).toThrow(
      /v.xml: time \(ScanInfo\/Vehicle\/Kind\) "bus & coach" is not a date/,
    );
  });

  it('reads our JSON sidecar', () => {
    expect(
      parseJsonSidecar(
        '{"scanId":"A","time":"2026-01-01T00:00:00Z","pixelMm":5,"vehicle":{"plate":"P 1","class":"car"}}',
        'a.json',
      ),
    ).toEqual({ scanId: 'A', time: '2026-01-01T00:00:00.000Z', pixelMm: 5, vehicle: { plate: 'P 1', class: 'car' } });
    expect(
      parseJsonSidecar('{"pixelMm":4,"lineMm":9.5,"lineRateHz":250,"vehicle":{"speedKmh":8.5}}', 'b.json'),
    ).toEqual({
      pixelMm: 4,
      lineMm: 9.5,
      lineRateHz: 250,
      vehicle: { speedKmh: 8.5 },
    });
    expect(() => parseJsonSidecar('{"lineMm":"fast"}', 'c.json')).toThrow(
      /c.json: lineMm "fast" is not a line pitch in mm \(0.5-50\)/,
    );
    expect(parseJsonSidecar('{"lineRateHz":"250","vehicle":{"speedKmh":"8.5"}}', 'e.json')).toEqual({
      lineRateHz: 250,
      vehicle: { speedKmh: 8.5 },
    });
    expect(() => parseJsonSidecar('{"vehicle":{"speedKmh":"fast"}}', 'f.json')).toThrow(
      /f.json: vehicle.speedKmh "fast" is not a speed in km\/h/,
    );
    expect(() => parseJsonSidecar('{"lineRateHz":0}', 'd.json')).toThrow(
      /d.json: lineRateHz 0 is not a line rate in lines\/s \(1-20000\)/,
    );
    expect(() => parseJsonSidecar('{"scanId":', 'a.json')).toThrow(/a.json: not valid JSON/);
    // the pitch fields alone, checked alike; a bad time is not their concern
    expect(
      jsonSidecarPitch(
        '{"time":"noon","pixelMm":"4","lineMm":8,"lineRateHz":300,"vehicle":{"speedKmh":9.6}}',
        'g.json',
      ),
    ).toEqual({ pixelMm: 4, lineMm: 8, lineRateHz: 300, speedKmh: 9.6 });
    expect(() => jsonSidecarPitch('{"lineMm":"ten"}', 'h.json')).toThrow(/h.json: lineMm "ten" is not a line pitch/);
  });
});
