import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkMemoryEnvironment, MALLOC_ENVIRONMENT } from '../../../app/memory-environment.js';
import type { Logger } from '../../../core/logger.js';

function recorder(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = { warn: (_o: object, msg: string) => lines.push(msg) } as unknown as Logger;
  return { log, lines };
}

describe('checkMemoryEnvironment', () => {
  it.runIf(process.platform === 'linux')('names the malloc settings the process was started without', () => {
    const r = recorder();
    checkMemoryEnvironment(r.log, { MALLOC_ARENA_MAX: '2' });
    expect(r.lines).toEqual([
      'started without MALLOC_MMAP_THRESHOLD_=131072 in the environment: the process may keep 100-200 MiB more memory than it needs; set them in the service unit (Environment=) or the shell that starts it',
    ]);
    const ok = recorder();
    checkMemoryEnvironment(ok.log, { ...MALLOC_ENVIRONMENT });
    expect(ok.lines).toEqual([]);
  });

  it('are set by the shipped service unit', () => {
    const unit = readFileSync(new URL('../../../deploy/checkpoint-edge.service', import.meta.url), 'utf8');
    const set = Object.fromEntries(
      unit
        .split('\n')
        .filter((l) => l.startsWith('Environment='))
        .flatMap((l) => l.slice('Environment='.length).split(/\s+/))
        .map((kv) => kv.split('=', 2) as [string, string]),
    );
    for (const [k, v] of Object.entries(MALLOC_ENVIRONMENT)) expect(set[k], k).toBe(v);
  });
});
