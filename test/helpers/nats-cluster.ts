import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { freePort } from './net.js';

export const NATS_SERVER = '/usr/sbin/nats-server';

export interface NatsNode {
  name: string;
  clientPort: number;
  clusterPort: number;
  mqttPort: number;
  child: ChildProcess | null;
  log: string;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * A nats-server cluster on loopback started by a test: each node with routes to the others, a
 * JetStream store folder and an MQTT listener (Debian's nats-server 2.9). Nodes can be killed
 * (SIGKILL) and started again on the same ports and store.
 */
export class NatsCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'nats-cluster-'));
  readonly nodes: NatsNode[] = [];

  constructor(readonly size = 3) {}

  get servers(): string[] {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.clientPort}`);
  }

  mqttUrl(i: number): string {
    return `mqtt://127.0.0.1:${this.nodes[i]!.mqttPort}`;
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.size; i++)
      this.nodes.push({
        name: `n${i + 1}`,
        clientPort: await freePort(),
        clusterPort: await freePort(),
        mqttPort: await freePort(),
        child: null,
        log: '',
      });
    for (const n of this.nodes) {
      mkdirSync(join(this.dir, n.name), { recursive: true });
      writeFileSync(
        join(this.dir, `${n.name}.conf`),
        [
          `server_name: ${n.name}`,
          `listen: 127.0.0.1:${n.clientPort}`,
          `jetstream { store_dir: "${join(this.dir, n.name)}" }`,
          // One node (benchmarks) runs without a cluster block: JetStream clustering needs routes.
          ...(this.size > 1
            ? [
                'cluster {',
                '  name: central-test',
                `  listen: 127.0.0.1:${n.clusterPort}`,
                `  routes: [${this.nodes
                  .filter((o) => o !== n)
                  .map((o) => `nats-route://127.0.0.1:${o.clusterPort}`)
                  .join(', ')}]`,
                '}',
              ]
            : []),
          `mqtt { listen: 127.0.0.1:${n.mqttPort} }`,
        ].join('\n'),
      );
    }
    await Promise.all(this.nodes.map((_, i) => this.startNode(i)));
  }

  async startNode(i: number): Promise<void> {
    const n = this.nodes[i]!;
    const child = spawn(NATS_SERVER, ['-c', join(this.dir, `${n.name}.conf`)], { stdio: ['ignore', 'pipe', 'pipe'] });
    n.child = child;
    const keep = (d: Buffer) => {
      n.log = (n.log + d.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let exited = false;
    child.once('exit', () => (exited = true));
    const t0 = Date.now();
    while (!(await portOpen(n.mqttPort)) || !(await portOpen(n.clientPort))) {
      if (exited) throw new Error(`nats-server ${n.name} exited at start:\n${n.log}`);
      if (Date.now() - t0 > 30_000) throw new Error(`nats-server ${n.name} did not listen within 30 s:\n${n.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The server name (n1, n2, …) of the node that leads a JetStream stream now. */
  async streamLeader(stream: string): Promise<string> {
    const nc = await connect({ servers: this.servers });
    try {
      const jsm = await nc.jetstreamManager();
      const leader = (await jsm.streams.info(stream)).cluster?.leader;
      if (!leader) throw new Error(`JetStream stream ${stream} has no leader (is it clustered?)`);
      return leader;
    } finally {
      await nc.close();
    }
  }

  /**
   * Asks the stream's leader to step down until a node other than `avoid` leads it (a new
   * election each time); returns the leader.
   */
  async moveStreamLeaderOff(stream: string, avoid: string): Promise<string> {
    const nc = await connect({ servers: this.servers });
    try {
      for (let attempt = 0; attempt < 20; attempt++) {
        const leader = await this.streamLeader(stream).catch(() => null);
        if (leader && leader !== avoid) return leader;
        if (leader)
          await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 5000 }).catch(() => {});
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`JetStream stream ${stream}: its leader stayed on ${avoid} through 20 step-downs`);
    } finally {
      await nc.close();
    }
  }

  /** SIGKILL: no goodbye to the cluster, as in a crash or a power cut. */
  async kill(i: number): Promise<void> {
    const child = this.nodes[i]!.child;
    this.nodes[i]!.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.kill(i)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
