import type { Region, ScanImage } from '../core/domain.js';

/** A picture to render on the picture thread. */
export type PictureJob =
  | { id: number; kind: 'evidence-jpeg'; image: ScanImage; regions: readonly Region[]; maxWidth: number }
  | { id: number; kind: 'console-png'; image: ScanImage; view: 'high' | 'low' | 'material' };

/** The picture thread's answer: the encoded file, or why it could not be made. */
export type PictureReply = { id: number; ok: true; data: Uint8Array } | { id: number; ok: false; error: string };
