import type { SiteContext } from '../context.js';
import { deviceStatus } from '../lane-health.js';
import type { Service } from '../service.js';

/** Builds the link to central command: outbox, publisher, command handler. */
export function createMqttServices(ctx: SiteContext): Service[] {
  return [
    {
      name: 'mqtt',
      async start() {
        const detail = ctx.config.mqtt ? 'MQTT publishing is not part of this build: nothing reaches central command' : 'no mqtt section in the config: nothing reaches central command';
        for (const lane of ctx.lanes) lane.bus.emit('device.status', deviceStatus('mqtt', ctx.config.mqtt ? 'unavailable' : 'not-configured', detail));
      },
      async stop() {},
    },
  ];
}
