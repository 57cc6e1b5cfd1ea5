// A hookrun webhook receiver with Node's standard library only: it verifies
// each delivery (verify.js), answers hookrun's ownership challenge, and
// acknowledges everything else with 204. Start from it, or copy its handler
// into your own server:
//
//   WEBHOOK_SECRET=whsec_… PORT=8080 node server.js
//
// HOST (default: all interfaces) and PORT (default 8080, 0 for any free
// port) say where it listens; it prints "listening on port N" once it does.
'use strict';

const http = require('node:http');
const { verify } = require('./verify');

// Larger bodies are refused with 413 (hookrun's events are at most 1 MiB).
const MAX_BODY = 1 << 20;

const secret = process.env.WEBHOOK_SECRET || '';

function handle(req, res) {
  if (req.method !== 'POST') {
    res.writeHead(405, { Allow: 'POST' }).end();
    return;
  }
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      res.writeHead(413, { Connection: 'close' }).end();
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks); // the raw bytes: verify before parsing
    if (!verify(secret, req.headers, body)) {
      res.writeHead(401).end();
      return;
    }
    let event;
    try {
      event = JSON.parse(body);
    } catch {
      res.writeHead(400).end();
      return;
    }
    // hookrun's ownership challenge, sent when the endpoint is created, its
    // URL changes, or on POST …/endpoints/{endpoint}:verify: echo it to
    // prove that you want this endpoint's webhooks.
    if (event && event.type === 'webhook.verification') {
      const challenge = event.data && event.data.challenge;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ challenge }));
      return;
    }
    // Your logic: drop duplicates by req.headers['webhook-id'] (the same on
    // every retry), hand slow work off, and answer fast.
    console.log(JSON.stringify({ message: 'webhook received', webhook_id: req.headers['webhook-id'], event_type: event && event.type }));
    res.writeHead(204).end();
  });
}

// A malformed secret is a configuration error: stop before serving.
try {
  verify(secret, {}, Buffer.alloc(0));
} catch (err) {
  console.error(`server.js: WEBHOOK_SECRET: ${err.message}`);
  process.exit(2);
}

const server = http.createServer(handle);
server.listen(Number(process.env.PORT || 8080), process.env.HOST || undefined, () => {
  console.log(`listening on port ${server.address().port}`);
});
// Cloud Run sends SIGTERM before stopping an instance: finish what is in flight.
process.on('SIGTERM', () => server.close());
