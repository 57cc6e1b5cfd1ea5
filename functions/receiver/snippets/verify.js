// Verifies a hookrun webhook (Standard Webhooks signature) with Node's
// standard library only. Copy verify() into your handler:
//
//   const { verify } = require('./verify');
//   // body: the raw request body as a Buffer, before any JSON parsing
//   if (!verify(process.env.WEBHOOK_SECRET, req.headers, body)) {
//     res.writeHead(401).end();
//     return;
//   }
//
// CLI, used by the tests:
//   WEBHOOK_SECRET=whsec_… node verify.js headers.json < body
// exits 0 when the webhook verifies, 1 when it does not, 2 on bad usage.
'use strict';

const crypto = require('node:crypto');

// How far webhook-timestamp may be from this machine's clock, either way.
const TOLERANCE_SECONDS = 5 * 60;

// verify reports whether body (a Buffer or string: the raw body) was signed
// with secret. secret may hold several space-separated whsec_ secrets while
// one is rotated; headers is an object of header names (any case) to values,
// such as req.headers. It throws when secret is not whsec_ base64.
function verify(secret, headers, body, nowSeconds = Date.now() / 1000) {
  const keys = secret.split(/\s+/).filter(Boolean).map(parseSecret);
  if (keys.length === 0) throw new Error('no webhook secret given');

  const h = {};
  for (const [name, value] of Object.entries(headers)) {
    h[name.toLowerCase()] = Array.isArray(value) ? value.join(' ') : String(value);
  }
  const id = h['webhook-id'];
  const timestamp = h['webhook-timestamp'];
  const signatures = h['webhook-signature'];
  if (!id || !timestamp || !signatures) return false;
  if (!/^[0-9]+$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return false;

  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.from(body)]);
  for (const key of keys) {
    const expected = crypto.createHmac('sha256', key).update(signed).digest();
    for (const signature of signatures.split(' ')) {
      const [version, mac] = signature.split(',', 2);
      if (version !== 'v1' || !mac) continue;
      const got = Buffer.from(mac, 'base64');
      // timingSafeEqual throws on a length mismatch; the length is no secret.
      if (got.length === expected.length && crypto.timingSafeEqual(got, expected)) return true;
    }
  }
  return false;
}

function parseSecret(secret) {
  const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('webhook secret must be whsec_ followed by base64');
  return Buffer.from(b64, 'base64');
}

module.exports = { verify, TOLERANCE_SECONDS };

if (require.main === module) {
  const fs = require('node:fs');
  try {
    if (process.argv.length !== 3) throw new Error('usage: WEBHOOK_SECRET=whsec_… node verify.js headers.json < body');
    const headers = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
    const body = fs.readFileSync(0); // stdin, as raw bytes
    const ok = verify(process.env.WEBHOOK_SECRET || '', headers, body);
    console.log(ok ? 'verified' : 'not verified');
    process.exitCode = ok ? 0 : 1;
  } catch (err) {
    console.error(`verify.js: ${err.message}`);
    process.exitCode = 2;
  }
}
