import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { Config } from '../../config/schema.js';
import { LaneTopics } from '../../core/mqtt-topics.js';
import { silentLogger } from '../../core/logger.js';
import { redactUrl } from '../../core/redact.js';
import { describeError } from '../../outputs/mqtt/mqtt-link.js';
import { type DoctorResult, fail, ok, warn } from './doctor-check.js';

/**
 * The broker, with a lane's own credentials: it connects (TLS, user and password or client
 * certificate, as the lane does, under a client id of its own so that a running lane is not
 * disconnected), subscribes to the lane's command filter, and publishes one QoS 1 message to a
 * topic the lane writes (a command response, cmd/doctor/response), which the ACL of
 * docs/mqtt.md allows and central command ignores. Under MQTT 5 a refused publish is answered
 * with PUBACK 0x87; under 3.1.1 a broker acknowledges and drops it, so the publish is unproven.
 * A broker that checks read rights at SUBSCRIBE refuses the subscription (SUBACK ≥ 0x80);
 * mosquitto's acl_file checks them per delivered message instead, so there only `central
 * status` after go-live shows that commands arrive (docs/deployment.md).
 */
export async function checkBroker(config: Config, laneId: string, signal: AbortSignal): Promise<DoctorResult> {
  const m = config.mqtt!;
  const topics = new LaneTopics(m.topicPrefix, config.site.id, laneId);
  const clientId = `${m.clientId ?? `checkpoint-edge-${config.site.id}-${laneId}`}-doctor`;
  const target = `${laneId} ${redactUrl(m.url)}${m.username ? ` as ${m.username}` : ''}`;
  const aclFix = `let the lane's account write ${topics.base}/{availability,status,scan,alert,event} and ${topics.base}/cmd/+/response, and read ${topics.commandFilter} (docs/mqtt.md, broker ACL)`;
  const file = (p: string | undefined) => (p ? readFileSync(p) : undefined);
  let client: MqttClient | null = null;
  try {
    try {
      const ca = file(m.tls?.ca);
      const cert = file(m.tls?.cert);
      const key = file(m.tls?.key);
      client = await mqtt.connectAsync(m.url, {
        protocolVersion: m.protocolVersion,
        clientId,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 8000,
        ...(m.username !== undefined ? { username: m.username } : {}),
        ...(m.password !== undefined ? { password: m.password } : {}),
        ...(ca ? { ca } : {}),
        ...(cert ? { cert } : {}),
        ...(key ? { key } : {}),
        ...(m.tls ? { rejectUnauthorized: m.tls.rejectUnauthorized } : {}),
      });
      client.on('error', () => {});
    } catch (err) {
      return fail(
        'mqtt broker',
        target,
        describeError(err as Error, {
          url: m.url,
          clientId,
          protocolVersion: m.protocolVersion,
          keepaliveS: 30,
          reconnect: { initialMs: 1000, maxMs: 1000 },
          sessionExpiryS: 0,
          will: { topic: topics.availability, payload: 'offline' },
          log: silentLogger(),
          ...(m.tls ? { tls: m.tls } : {}),
        }),
        'check mqtt.url, the credentials in the secrets file, and mqtt.tls (validate-config --check reads the files)',
      );
    }
    if (signal.aborted) return fail('mqtt broker', target, 'stopped', aclFix);
    const granted = await client.subscribeAsync(topics.commandFilter, { qos: 1 });
    const refusedSub = granted.find((g) => g.qos >= 0x80);
    if (refusedSub)
      return fail(
        'mqtt broker',
        target,
        `connected, but the broker refuses the subscription to ${topics.commandFilter} (SUBACK 0x${refusedSub.qos.toString(16)}): no command would reach the lane`,
        aclFix,
      );
    const response = topics.response('doctor');
    const body = JSON.stringify({
      status: 'error',
      error: "checkpoint-edge doctor: a test of the lane account's publish rights; no command was sent",
      transaction: `doctor-${Date.now()}`,
      laneId,
    });
    try {
      await client.publishAsync(response, body, { qos: 1 });
    } catch (err) {
      return fail(
        'mqtt broker',
        target,
        `connected, but the broker refuses the lane's publish to ${response} (${(err as Error).message})`,
        aclFix,
      );
    }
    if (m.protocolVersion !== 5)
      return warn(
        'mqtt broker',
        target,
        `connected, subscribed to ${topics.commandFilter}; a publish under MQTT 3.1.1 is acknowledged even when the ACL drops it`,
        'use protocolVersion 5 so that a refused publish is seen (docs/mqtt.md)',
      );
    return ok(
      'mqtt broker',
      target,
      `connected, subscribed to ${topics.commandFilter}, published to ${response} (PUBACK success)`,
    );
  } finally {
    await client?.endAsync(true).catch(() => {});
  }
}
