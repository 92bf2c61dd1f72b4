import type { Region, ScanImage } from '../core/domain.js';

/** A picture to render on the picture thread. */
export type PictureJob =
  | { id: number; kind: 'evidence-jpeg'; image: ScanImage; regions: readonly Region[]; maxWidth: number }
  | { id: number; kind: 'console-png'; image: ScanImage; view: 'high' | 'low' | 'material' };

/** The picture thread's answer: the encoded file, or why it could not be made. */
export type PictureReply = { id: number; ok: true; data: Uint8Array } | { id: number; ok: false; error: string };

/** Asks the picture thread for its memory, answered between pictures or while one is being made. */
export interface MemoryQuery {
  kind: 'memory';
  query: number;
}

/** The picture thread's own V8 heap and the buffers outside it, which the main thread's figures leave out. */
export interface ThreadMemory {
  /** V8 heap reserved (bytes). */
  heapBytes: number;
  /** Array buffers and other memory outside the heap held by this thread's objects, dead ones not yet collected included (bytes). */
  externalBytes: number;
}

export type MemoryReply = { kind: 'memory'; query: number } & ThreadMemory;
