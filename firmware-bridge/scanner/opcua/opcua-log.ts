import { format } from 'node:util';
import { setErrorLogger, setWarningLogger } from 'node-opcua';
import type { Logger } from '../../../core/logger.js';

interface Message {
  level: 'debug' | 'warn';
  where?: string;
  msg: string;
}

let routedTo: Logger | null = null;
/** What node-opcua said before a logger was given (it checks the crypto of Node at import). */
const early: Message[] = [];

function record(level: Message['level'], ctx: unknown, args: unknown[]): void {
  const c = ctx as { filename?: string; callerline?: number } | null;
  const m: Message = {
    level,
    where: c?.filename ? `${c.filename}:${c.callerline ?? ''}` : undefined,
    msg: format(...args).slice(0, 2000),
  };
  if (routedTo) routedTo[m.level]({ where: m.where }, m.msg);
  else if (early.length < 50) early.push(m);
}

// node-opcua writes its warnings and errors with console.log, which would mix them into a
// command's stdout (the demo's summary lines, a simulator's output). Take them over as soon as
// any module that uses node-opcua is loaded; they reach a logger once routeOpcuaLogs gives one.
setWarningLogger((ctx?: unknown, ...args: unknown[]) => record('debug', ctx, args));
setErrorLogger((ctx?: unknown, ...args: unknown[]) => record('warn', ctx, args));

/**
 * Sends node-opcua's messages to this logger: its warnings at debug (they are frequent and
 * repeat what the device status already says), its errors at warn. node-opcua keeps one logger
 * per process, so the latest caller's logger takes them all.
 */
export function routeOpcuaLogs(log: Logger): void {
  routedTo = log.child({ part: 'node-opcua' });
  for (const m of early.splice(0)) routedTo[m.level]({ where: m.where }, m.msg);
}
