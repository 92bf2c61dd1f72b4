import { readFileSync } from 'node:fs';

/** The package's version, as `checkpoint-edge --version` prints it. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
