import { describe, expect, it } from 'vitest';
import { classify, parseSmaps } from '../../../bench/process-memory.js';

const MiB = 1024 * 1024;
const hex = (n: number) => n.toString(16).padStart(12, '0');

/** One /proc/<pid>/smaps entry: start address, size and RSS in MiB. */
function entry(start: number, sizeMiB: number, rssMiB: number, perms: string, path = ''): string {
  const end = start + sizeMiB * MiB;
  return `${hex(start)}-${hex(end)} ${perms} 00000000 00:00 0 ${path}
Size:           ${sizeMiB * 1024} kB
Rss:            ${rssMiB * 1024} kB
Pss:            ${rssMiB * 1024} kB
`;
}

describe('process memory from smaps', () => {
  it('tells the brk heap, glibc arenas (64 MiB heaps), other anonymous memory and files apart', () => {
    const arena = 0x7f0000000000; // 64 MiB aligned
    const text = [
      entry(0x555500000000, 40, 30, 'r-xp', '/usr/bin/node'),
      entry(0x555600000000, 50, 45, 'rw-p', '[heap]'),
      // an arena: 8 MiB in use, the rest of its 64 MiB reserved
      entry(arena, 8, 6, 'rw-p'),
      entry(arena + 8 * MiB, 56, 0, '---p'),
      // a block above the mmap threshold that happens to start on a 64 MiB boundary: not an arena
      entry(arena + 128 * MiB, 12, 12, 'rw-p'),
      entry(arena + 256 * MiB, 1, 1, 'rw-p'),
      entry(0x7f1000000000, 20, 20, 'r-xp', '/opt/x/node_modules/onnxruntime-node/bin/libonnxruntime.so.1'),
      entry(0x7f1100000000, 2, 1, 'rw-s', '/var/lib/x/outbox.sqlite-shm'),
    ].join('');
    const m = classify(parseSmaps(text));
    expect(m.rss).toBe((30 + 45 + 6 + 12 + 1 + 20 + 1) * MiB);
    expect(m.mallocMain).toBe(45 * MiB);
    expect(m.mallocArenas).toBe(6 * MiB);
    expect(m.mallocArenaCount).toBe(1);
    expect(m.anonOther).toBe(13 * MiB);
    expect(m.files).toBe(51 * MiB);
    expect(m.byFile).toEqual([
      ['node', 30 * MiB],
      ['libonnxruntime.so.1', 20 * MiB],
      ['outbox.sqlite-shm', 1 * MiB],
    ]);
  });

  it('reads this process', async () => {
    const { readProcessMemory } = await import('../../../bench/process-memory.js');
    const m = readProcessMemory(process.pid)!;
    expect(m.rss).toBeGreaterThan(10 * MiB);
    expect(m.files).toBeGreaterThan(0);
    expect(m.byFile.some(([f]) => f === 'node' || f.startsWith('node'))).toBe(true);
    expect(readProcessMemory(2 ** 30)).toBeNull();
  });
});
