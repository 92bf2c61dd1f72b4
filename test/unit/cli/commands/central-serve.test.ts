import { describe, expect, it } from 'vitest';
import { centralConfigSchema } from '../../../../central/config.js';
import { startFailureLine } from '../../../../cli/commands/central-serve.js';
import { secretValues } from '../../../../config/load.js';

describe('central serve: the line it prints when it cannot start', () => {
  it("redacts every URL's user information, whichever peer put the URL in its error", () => {
    const err = new Error(
      'MQTT broker mqtt://central:s3cret-pw@10.0.0.9:1883 not reached within 10 s; check ingest.url',
    );
    const line = startFailureLine(err);
    expect(line).toBe(
      'central serve: could not start: MQTT broker mqtt://***@10.0.0.9:1883 not reached within 10 s; check ingest.url',
    );
    expect(line).not.toContain('s3cret');
  });

  it("redacts the config's secrets wherever they appear in the message", () => {
    const config = centralConfigSchema.parse({
      ingest: { kind: 'mqtt', url: 'mqtt://10.0.0.9:1883', username: 'central', password: 'broker-pw-1' },
      accounts: { bootstrapAdmin: { name: 'admin', password: 'admin-pw-22' } },
    });
    const secrets = secretValues(config, centralConfigSchema);
    expect(secrets.sort()).toEqual(['admin-pw-22', 'broker-pw-1']);
    expect(startFailureLine(new Error('login as central with broker-pw-1 refused'), secrets)).toBe(
      'central serve: could not start: login as central with *** refused',
    );
  });

  it("names a refused connection's code and inner errors when the error has no message of its own", () => {
    const refused = Object.assign(new AggregateError([new Error('connect ECONNREFUSED 127.0.0.1:5432')], ''), {
      code: 'ECONNREFUSED',
    });
    expect(startFailureLine(refused)).toBe(
      'central serve: could not start: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432',
    );
  });
});
