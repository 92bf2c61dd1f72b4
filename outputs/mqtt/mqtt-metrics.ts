import { Counter, Gauge, type Registry } from 'prom-client';

/** Prometheus figures of the MQTT output, one set per runtime (labelled by lane). */
export class MqttMetrics {
  readonly outboxDepth: Gauge<'lane'>;
  readonly published: Counter<'lane' | 'kind'>;
  readonly evicted: Counter<'lane' | 'kind'>;
  readonly commands: Counter<'lane' | 'command' | 'status'>;
  readonly connected: Gauge<'lane'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.outboxDepth = new Gauge({
      name: 'checkpoint_edge_mqtt_outbox_depth',
      help: 'Messages waiting in the MQTT outbox.',
      labelNames: ['lane'],
      registers,
    });
    this.published = new Counter({
      name: 'checkpoint_edge_mqtt_published_total',
      help: 'Outbox messages acknowledged by the broker (PUBACK), by kind.',
      labelNames: ['lane', 'kind'],
      registers,
    });
    this.evicted = new Counter({
      name: 'checkpoint_edge_mqtt_evicted_total',
      help: 'Messages evicted or refused because the outbox was full, by kind.',
      labelNames: ['lane', 'kind'],
      registers,
    });
    this.commands = new Counter({
      name: 'checkpoint_edge_mqtt_commands_total',
      help: 'Commands from central command, by name and answer.',
      labelNames: ['lane', 'command', 'status'],
      registers,
    });
    this.connected = new Gauge({
      name: 'checkpoint_edge_mqtt_connected',
      help: "1 while the lane's MQTT link is up.",
      labelNames: ['lane'],
      registers,
    });
  }
}
