import { z } from 'zod';
import { ident, intIn, text } from './fields.js';

export const watchlist = z
  .strictObject({
    keys: z
      .array(
        z.strictObject({
          keyId: ident().describe("The key id central command signs with (the message's keyId)."),
          publicKey: text()
            .min(1)
            .describe('Ed25519 public key of central command: a PEM file path, or the PEM text itself.'),
        }),
      )
      .min(1, { error: 'watchlist.keys needs at least one central public key' })
      .describe("Central command's signing keys the lanes trust; two during a key change."),
    lists: z
      .array(ident())
      .min(1)
      .optional()
      .describe('The lists this site takes. Absent: every list central command publishes.'),
    dir: text().optional().describe('Folder of the last good version of each list. Default: <dataDir>/watchlists.'),
    maxMb: intIn(1, 1024)
      .default(256)
      .describe(
        'A list message larger than this is refused unread (1 million entries take about 60 MB as a snapshot).',
      ),
    repeatS: intIn(0, 86_400)
      .default(120)
      .describe(
        'The same read matching the same entry again within this time raises no second alert (an ANPR read is attached again to the scan that follows it).',
      ),
  })
  .describe(
    "Watchlists (plates, container codes) signed by central command and matched at the lane: docs/watchlists.md. Versions arrive over the mqtt connection's broker on <topicPrefix>/watchlist/<list>/snapshot and /delta.",
  );
