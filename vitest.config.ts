import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start real peers (mosquitto, OPC UA servers, ffmpeg, chromium) on a 2-core machine.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
