import { generateKeyPairSync, createHash, verify } from 'node:crypto';
import { iso6346CheckDigit } from '../core/watchlist/iso6346.js';
import { LIST_FORMAT, parseWatchlistVersion } from '../core/watchlist/list-format.js';
import { signedMessage, openEnvelope } from '../core/watchlist/signing.js';
import { WatchlistIndex } from '../watchlist/watchlist-index.js';
const N = Number(process.env.N ?? 200000);
function plate(i: number): string {
  const L = 'ACDEFGHJKLMNPRSTUVWXY';
  const a = L[i % 21]! + L[Math.floor(i / 21) % 21]!;
  const b = L[Math.floor(i / 441) % 21]! + L[Math.floor(i / 9261) % 21]!;
  return `${a}-${b} ${Math.floor(i / 194481) + 1}${String(i % 1000).padStart(3, '0')}`;
}
function container(i: number): string {
  const f = `BEN${'UJZR'[i % 4]}${String(i).padStart(6, '0')}`;
  return `${f}${iso6346CheckDigit(f)}`;
}
const list: any[] = [];
for (let i = 0; i < N; i++) {
  const base = {
    id: `e${i}`,
    category: i % 3 ? 'stolen-vehicle' : 'wanted-person',
    action: 'stop and search',
    priority: 1 + (i % 5),
    source: 'national-police',
    ...(i % 7 === 0 ? { expiresAt: '2099-01-01T00:00:00Z' } : {}),
  };
  list.push(i % 20 === 0 ? { ...base, containerCode: container(i) } : { ...base, plate: plate(i), country: 'DE' });
}
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const msg = Buffer.from(
  signedMessage(
    {
      format: LIST_FORMAT,
      listId: 'national',
      version: 1,
      issuedAt: new Date().toISOString(),
      kind: 'snapshot',
      entries: list,
    },
    'k',
    privateKey,
  ),
);
list.length = 0;
const keys = new Map([['k', publicKey]]);
let t = performance.now();
const lap = (what: string) => {
  const n = performance.now();
  console.log(what, (n - t).toFixed(0), 'ms');
  t = n;
};
createHash('sha256').update(msg).digest('base64');
lap('sha256');
const s = msg.toString('utf8');
lap('toString');
const env = JSON.parse(s);
lap('JSON.parse envelope');
verify(null, Buffer.from(env.body, 'utf8'), publicKey, Buffer.from(env.signature, 'base64'));
lap('verify');
const body = JSON.parse(env.body);
lap('JSON.parse body');
const p = parseWatchlistVersion(body);
lap('validate');
if (!(p as any).ok) console.log((p as any).problems);
const idx = WatchlistIndex.fromSnapshot((p as any).version);
lap('index');
console.log(idx.size, process.memoryUsage().heapUsed / 1048576);
