/**
 * Whether a suite that needs an installed peer (mosquitto, ffmpeg ...) is skipped. Outside CI a
 * missing peer skips the suite with a warning; in CI (CI=true, as .ci/run sets it) it never
 * skips: the suite runs and fails, naming what to install, so that a CI machine without the
 * peer cannot pass by testing less.
 */
export function skipWithout(peer: string, present: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (present) return false;
  if (inCi(env)) return false;
  process.emitWarning(`${peer} is not installed: its test suites are skipped here (in CI they fail)`);
  return true;
}

export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}
