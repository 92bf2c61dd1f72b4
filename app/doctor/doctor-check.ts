/**
 * One line of `checkpoint-edge doctor`: a check of the site, what it found, and when it did not
 * pass, what to do about it.
 */
export type DoctorStatus = 'ok' | 'warn' | 'FAIL';

export interface DoctorResult {
  /** What was checked: "scanner", "mqtt broker", "clock". */
  check: string;
  /** Which one: the lane, the file, the endpoint; '-' for the box itself. */
  target: string;
  status: DoctorStatus;
  /** What was found. */
  detail: string;
  /** What to do, when the check did not pass. */
  fix?: string;
}

export const ok = (check: string, target: string, detail: string): DoctorResult => ({
  check,
  target,
  status: 'ok',
  detail,
});

export const fail = (check: string, target: string, detail: string, fix: string): DoctorResult => ({
  check,
  target,
  status: 'FAIL',
  detail,
  fix,
});

export const warn = (check: string, target: string, detail: string, fix: string): DoctorResult => ({
  check,
  target,
  status: 'warn',
  detail,
  fix,
});

/** The printed line: "FAIL scanner lane-3 tcp 10.20.0.10:4001: no hello within 5000 ms → is …". */
export function doctorLine(r: DoctorResult): string {
  const status = r.status === 'ok' ? 'ok  ' : r.status;
  const target = r.target === '-' ? '' : ` ${r.target}`;
  return `${status} ${r.check}${target}: ${r.detail}${r.fix ? ` → ${r.fix}` : ''}`;
}

/** Runs a check with a deadline; a check that throws or overruns becomes a FAIL naming it. */
export async function bounded(
  check: string,
  target: string,
  ms: number,
  run: (signal: AbortSignal) => Promise<DoctorResult>,
  fix: string,
): Promise<DoctorResult> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<DoctorResult>((resolve) => {
    timer = setTimeout(() => {
      ac.abort();
      resolve(fail(check, target, `no answer within ${ms} ms`, fix));
    }, ms);
  });
  try {
    return await Promise.race([run(ac.signal).catch((err: Error) => fail(check, target, err.message, fix)), deadline]);
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}
