// Signs test webhooks with the senders' own libraries, for
// internal/receivertest's senders_test.go: GitHub's with
// @octokit/webhooks-methods (sign), Stripe's with Stripe's Node library
// (webhooks.generateTestHeaderString). Reads a JSON array of
// {"sender", "secret", "payload", "timestamp"} on stdin and writes the JSON
// array of the signature headers' values, in order.
import { readFileSync } from 'node:fs';
import { sign } from '@octokit/webhooks-methods';
import Stripe from 'stripe';

const stripe = new Stripe('sk_test_signing_only'); // signing makes no API call

const headers = [];
for (const r of JSON.parse(readFileSync(0, 'utf8'))) {
  switch (r.sender) {
    case 'github':
      headers.push(await sign(r.secret, r.payload));
      break;
    case 'stripe':
      headers.push(stripe.webhooks.generateTestHeaderString({ payload: r.payload, secret: r.secret, timestamp: r.timestamp }));
      break;
    default:
      throw new Error(`sign.mjs: unknown sender ${JSON.stringify(r.sender)}`);
  }
}
process.stdout.write(JSON.stringify(headers));
