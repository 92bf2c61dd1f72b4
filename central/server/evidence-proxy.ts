import type { CentralStore } from '../store/central-store.js';
import { HttpError } from './http.js';

export interface EvidencePicture {
  contentType: string;
  body: Buffer;
  cached: boolean;
}

/**
 * Evidence stays at the lanes: central fetches a picture through the signed link the lane put in
 * its scan or alert message, and keeps recent ones in a bounded cache (bytes), so that a picture
 * seen once stays viewable for a while if the lane drops off. A lane that cannot be reached is
 * said plainly (502), never shown as a missing picture.
 */
export class EvidenceProxy {
  readonly #cache = new Map<string, { contentType: string; body: Buffer }>();
  #bytes = 0;

  constructor(
    private readonly store: CentralStore,
    private readonly o: { maxCacheBytes: number; timeoutMs: number },
  ) {}

  async get(siteId: string, laneId: string, scanId: string, name: string): Promise<EvidencePicture> {
    const key = `${siteId}/${laneId}/${scanId}/${name}`;
    const hit = this.#cache.get(key);
    if (hit) {
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return { ...hit, cached: true };
    }
    const scan = await this.store.scan(siteId, laneId, scanId);
    const ref = scan?.evidence.find((e) => e.name === name);
    if (!ref) throw new HttpError(404, `no picture ${name} in scan ${scanId} of ${siteId}/${laneId}`);
    if (!ref.url || !/^https?:\/\//.test(ref.url))
      throw new HttpError(
        502,
        `lane ${siteId}/${laneId} sent no absolute link for ${name}: set mqtt.evidenceBaseUrl on the lane so that central can reach it`,
      );
    let res: Response;
    try {
      res = await fetch(ref.url, { signal: AbortSignal.timeout(this.o.timeoutMs), redirect: 'error' });
    } catch (err) {
      throw new HttpError(
        502,
        `lane ${siteId}/${laneId} is unreachable for evidence (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}); the picture stays on the lane`,
      );
    }
    if (!res.ok) {
      const why =
        res.status === 403
          ? 'the signed link has expired'
          : res.status === 404
            ? 'the lane no longer keeps it (evidence retention)'
            : `HTTP ${res.status}`;
      throw new HttpError(502, `lane ${siteId}/${laneId} refused ${name} of scan ${scanId}: ${why}`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    const contentType = res.headers.get('content-type') ?? ref.contentType;
    if (body.length <= this.o.maxCacheBytes / 4) {
      this.#cache.set(key, { contentType, body });
      this.#bytes += body.length;
      while (this.#bytes > this.o.maxCacheBytes) {
        const [k, v] = this.#cache.entries().next().value!;
        this.#cache.delete(k);
        this.#bytes -= v.body.length;
      }
    }
    return { contentType, body, cached: false };
  }
}
