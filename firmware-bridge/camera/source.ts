import { redactUrl } from '../../core/redact.js';

/**
 * The seam between a camera transport and its watchdog. A source is opened, pushes JPEG
 * pictures to its sink as they come, and says once, through `ended`, that it stopped by
 * itself (connection closed, process exited). close() stops it without calling `ended`.
 */
export interface FrameSink {
  /** A picture as the camera sent it (not yet checked). */
  frame(jpeg: Buffer): void;
  /** Something was dropped or malformed on the wire (counted; the source goes on). */
  problem(detail: string): void;
  /** The source stopped by itself; the watchdog decides when to reopen it. */
  ended(reason: string): void;
}

export interface FrameSource {
  /** e.g. 'mjpeg http://cam/…' with credentials removed, for messages. */
  readonly describe: string;
  /** Resolves once connected and receiving (HTTP status checked, process started);
   * rejects with a message that says what failed and what to check. */
  open(sink: FrameSink): Promise<void>;
  close(): Promise<void>;
}

/** A URL fit for logs and status details: credentials replaced by *** (runtime/redact.ts). */
export const safeUrl = redactUrl;
