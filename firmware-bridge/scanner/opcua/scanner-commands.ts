import type { ScannerSnapshot } from './scanner-values.js';

/** The scanner methods the lane calls. */
export type ScannerCommand = 'arm' | 'abort';

/** A scalar output argument of a method, as the lane keeps it. */
export type MethodOutput = string | number | boolean | null;

/** What a method call the scanner accepted returns. */
export interface ScannerCommandResult {
  command: ScannerCommand;
  /** Name of the status code; always a Good one (a Bad one throws a ScannerCommandError). */
  statusCode: string;
  outputs: MethodOutput[];
  /** When the call was answered. */
  at: string;
  /** Round trip in milliseconds. */
  ms: number;
}

/** A method call the scanner's server answered with a Bad status code, or could not be made at all. */
export class ScannerCommandError extends Error {
  override readonly name = 'ScannerCommandError';

  constructor(
    readonly command: ScannerCommand,
    readonly methodId: string,
    readonly objectId: string,
    /** Name of the status code, e.g. "BadInvalidState"; "NotConnected" when no call was made. */
    readonly statusCode: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The sentence that says what a rejected call means and what to do about it. */
export function rejectionHint(command: ScannerCommand, statusCode: string, snap: ScannerSnapshot): string {
  const now = `now: ${snap.state ?? 'state unknown'}${snap.interlocksOpen.length ? `, interlocks open: ${snap.interlocksOpen.join(', ')}` : ''}${snap.fault ? `, fault: ${snap.fault}` : ''}`;
  switch (statusCode) {
    case 'BadInvalidState':
      return command === 'arm'
        ? `the scanner arms only when Ready with every interlock closed (${now})`
        : `the scanner cannot abort in its present state (${now})`;
    case 'BadNodeIdUnknown':
    case 'BadNodeIdInvalid':
    case 'BadMethodInvalid':
      return `the server has no such method on that object: check scanner.opcua.nodes.${command} and scanner.opcua.nodes.object against the vendor's address space`;
    case 'BadUserAccessDenied':
    case 'BadNotExecutable':
      return "the session may not call it: check scanner.opcua.username and the user's rights on the scanner";
    case 'BadArgumentsMissing':
    case 'BadTooManyArguments':
    case 'BadInvalidArgument':
    case 'BadTypeMismatch':
      return "the method expects other input arguments than none: this scanner's method is not the Arm/Abort the lane knows";
    default:
      return `the scanner refused it (${now})`;
  }
}
