import { readFileSync } from 'node:fs';

/**
 * Where a process's resident memory lies, from /proc/<pid>/smaps (Linux), in bytes. The kernel
 * knows mappings, not owners, so the split is by what a mapping looks like:
 *
 * - mallocMain: the brk heap ([heap]): glibc's main arena.
 * - mallocArenas: glibc's other arenas: anonymous read-write heaps that start on a 64 MiB
 *   boundary and, with the reserved (---p) rest that follows them, span exactly 64 MiB
 *   (HEAP_MAX_SIZE on 64-bit). With MALLOC_ARENA_MAX=2 there is one.
 * - anonOther: every other anonymous mapping: the V8 heaps (main and worker threads), blocks
 *   above the mmap threshold (scan images, tensors, libvips buffers), thread stacks.
 * - files: file-backed pages (the node binary, onnxruntime, libvips and other shared libraries,
 *   SQLite's -shm index), by file in `byFile` (the largest first).
 */
export interface ProcessMemory {
  rss: number;
  mallocMain: number;
  mallocArenas: number;
  mallocArenaCount: number;
  anonOther: number;
  files: number;
  byFile: [string, number][];
}

const HEAP_MAX = 64 * 1024 * 1024;

interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rss: number;
}

export function parseSmaps(text: string): Mapping[] {
  const maps: Mapping[] = [];
  let cur: Mapping | null = null;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = {
        start: Number.parseInt(head[1], 16),
        end: Number.parseInt(head[2], 16),
        perms: head[3],
        path: head[4].trim(),
        rss: 0,
      };
      maps.push(cur);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && cur) cur.rss = Number(rss[1]) * 1024;
  }
  return maps;
}

export function classify(maps: Mapping[]): ProcessMemory {
  const m: ProcessMemory = {
    rss: 0,
    mallocMain: 0,
    mallocArenas: 0,
    mallocArenaCount: 0,
    anonOther: 0,
    files: 0,
    byFile: [],
  };
  const byFile = new Map<string, number>();
  for (let i = 0; i < maps.length; i++) {
    const x = maps[i];
    m.rss += x.rss;
    if (x.path === '[heap]') m.mallocMain += x.rss;
    else if (x.path.startsWith('/')) {
      m.files += x.rss;
      const name = x.path.split('/').pop()!;
      byFile.set(name, (byFile.get(name) ?? 0) + x.rss);
    } else if (x.path === '' && x.perms.startsWith('rw') && x.start % HEAP_MAX === 0 && isArena(maps, i)) {
      m.mallocArenas += x.rss;
      m.mallocArenaCount++;
    } else m.anonOther += x.rss;
  }
  m.byFile = [...byFile.entries()].sort((a, b) => b[1] - a[1]);
  return m;
}

/** A glibc non-main heap: its read-write part and the reserved part after it span HEAP_MAX exactly. */
function isArena(maps: Mapping[], i: number): boolean {
  const x = maps[i];
  let end = x.end;
  const next = maps[i + 1];
  if (next && next.start === x.end && next.path === '' && next.perms.startsWith('---')) end = next.end;
  return end - x.start === HEAP_MAX;
}

/** The process's memory now, or null when it is gone. */
export function readProcessMemory(pid: number): ProcessMemory | null {
  try {
    return classify(parseSmaps(readFileSync(`/proc/${pid}/smaps`, 'utf8')));
  } catch {
    return null;
  }
}
