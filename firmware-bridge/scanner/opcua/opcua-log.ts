import { format } from 'node:util';
import { setErrorLogger, setWarningLogger } from 'node-opcua';
import type { Logger } from '../../../runtime/logger.js';

let routedTo: Logger | null = null;

/**
 * node-opcua writes its warnings and errors with console.log, which would mix them into a
 * command's stdout. Route them to the process logger instead: its warnings at debug (they are
 * frequent and repeat what the device status already says), its errors at warn.
 * node-opcua keeps one logger per process, so the latest caller's logger takes them all.
 */
export function routeOpcuaLogs(log: Logger): void {
  const first = routedTo === null;
  routedTo = log.child({ part: 'node-opcua' });
  if (!first) return;
  const fmt = (ctx: unknown, args: unknown[]) => {
    const c = ctx as { filename?: string; callerline?: number } | null;
    return { where: c?.filename ? `${c.filename}:${c.callerline ?? ''}` : undefined, msg: format(...args).slice(0, 2000) };
  };
  setWarningLogger((ctx?: unknown, ...args: unknown[]) => {
    const m = fmt(ctx, args);
    routedTo?.debug({ where: m.where }, m.msg);
  });
  setErrorLogger((ctx?: unknown, ...args: unknown[]) => {
    const m = fmt(ctx, args);
    routedTo?.warn({ where: m.where }, m.msg);
  });
}
