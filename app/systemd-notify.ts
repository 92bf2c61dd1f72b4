import { execFile } from 'node:child_process';
import type { Logger } from '../core/logger.js';

/**
 * The systemd notification protocol (sd_notify) for `Type=notify` with `WatchdogSec=`: READY=1
 * once the lanes run, STOPPING=1 at shutdown, and WATCHDOG=1 from a timer on the event loop, so
 * that a loop stuck in a computation or a busy wait stops the pings and systemd restarts the
 * service (deploy/checkpoint-edge.service).
 *
 * Node has no unix datagram sockets, so each message is sent by the `systemd-notify` program,
 * which the unit allows with `NotifyAccess=all`. systemd-notify (systemd ≥ 246) waits until the
 * service manager has read the message (a barrier): the message is never attributed to a process
 * that has already exited, the race that made plain `systemd-notify` unreliable. The timer is
 * only ever started from the event loop, and only one ping is in flight at a time.
 */

export type NotifySend = (args: string[]) => Promise<void>;

export interface SystemdNotifierOptions {
  log: Logger;
  /** The process environment (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID). */
  env?: NodeJS.ProcessEnv;
  /** This process's id, compared with WATCHDOG_PID. */
  pid?: number;
  /** Sends one message; default: runs systemd-notify with the arguments. */
  send?: NotifySend;
}

/** Runs `systemd-notify <args>` with the service's NOTIFY_SOCKET; rejects with its error output. */
export function systemdNotifySend(env: NodeJS.ProcessEnv): NotifySend {
  return (args) =>
    new Promise((resolve, reject) => {
      execFile('systemd-notify', args, { env, timeout: 10_000 }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`systemd-notify ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
        else resolve();
      });
    });
}

/** How often to ping for a WATCHDOG_USEC: half the watchdog's time, as sd_watchdog_enabled(3) advises. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return null;
  // The watchdog belongs to another process (a child started with the service's environment).
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

export class SystemdNotifier {
  readonly #log: Logger;
  readonly #send: NotifySend;
  readonly #intervalMs: number | null;
  readonly #enabled: boolean;
  #timer: NodeJS.Timeout | null = null;
  #inFlight = false;
  #failures = 0;

  constructor(opts: SystemdNotifierOptions) {
    const env = opts.env ?? process.env;
    this.#log = opts.log;
    this.#enabled = Boolean(env.NOTIFY_SOCKET);
    this.#send = opts.send ?? systemdNotifySend(env);
    this.#intervalMs = this.#enabled ? watchdogIntervalMs(env, opts.pid ?? process.pid) : null;
  }

  /** Whether systemd listens (NOTIFY_SOCKET is set): false when run from a terminal. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The ping interval, or null when systemd set no watchdog for this process. */
  get watchdogIntervalMs(): number | null {
    return this.#intervalMs;
  }

  /** Tells systemd the service is up (READY=1) and starts the watchdog pings when asked for. */
  async ready(status: string): Promise<void> {
    if (!this.#enabled) return;
    await this.#message(['--ready', `--status=${status}`]);
    this.#startWatchdog();
  }

  /** Tells systemd the service is stopping (so a slow shutdown is not taken for a hang), and stops the pings. */
  async stopping(status: string): Promise<void> {
    this.stop();
    if (!this.#enabled) return;
    await this.#message(['STOPPING=1', `STATUS=${status}`]);
  }

  /** Stops the pings. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #startWatchdog(): void {
    if (this.#intervalMs === null || this.#timer) return;
    this.#log.info(`systemd watchdog: WATCHDOG=1 every ${this.#intervalMs} ms from the event loop`);
    this.#timer = setInterval(() => this.#ping(), this.#intervalMs);
    this.#timer.unref();
  }

  #ping(): void {
    // A ping still on its way (systemd-notify slow under load) is not doubled up.
    if (this.#inFlight) return;
    this.#inFlight = true;
    this.#send(['WATCHDOG=1'])
      .then(() => {
        if (this.#failures > 0)
          this.#log.info(`systemd watchdog: pings get through again after ${this.#failures} failed`);
        this.#failures = 0;
      })
      .catch((err: Error) => {
        // Logged once per run of failures: a missing systemd-notify would otherwise flood the journal.
        if (this.#failures++ === 0)
          this.#log.error(
            { err },
            `systemd watchdog: a ping failed (${err.message}); systemd will restart the service`,
          );
      })
      .finally(() => {
        this.#inFlight = false;
      });
  }

  async #message(args: string[]): Promise<void> {
    try {
      await this.#send(args);
    } catch (err) {
      this.#log.error({ err }, `systemd notification ${args[0]} not delivered: ${(err as Error).message}`);
    }
  }
}
