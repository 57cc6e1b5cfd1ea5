"""A hookrun webhook receiver with Python's standard library only: it
verifies each delivery (verify.py), answers hookrun's ownership challenge,
and acknowledges everything else with 204. Start from it, or copy its
handler into your own framework's view:

    WEBHOOK_SECRET=whsec_... PORT=8080 python3 server.py

HOST (default: all interfaces) and PORT (default 8080, 0 for any free
port) say where it listens; it prints "listening on port N" once it does.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from verify import verify

# Larger bodies are refused with 413 (hookrun's events are at most 1 MiB).
MAX_BODY = 1 << 20

SECRET = os.environ.get("WEBHOOK_SECRET", "")


class WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._answer(411)  # hookrun always sends Content-Length
            return
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._answer(413)
            return
        body = self.rfile.read(length)  # the raw bytes: verify before parsing
        if not verify(SECRET, self.headers, body):
            self._answer(401)
            return
        try:
            event = json.loads(body)
        except ValueError:
            self._answer(400)
            return
        # hookrun's ownership challenge, sent when the endpoint is created,
        # its URL changes, or on POST .../endpoints/{endpoint}:verify: echo
        # it to prove that you want this endpoint's webhooks.
        if isinstance(event, dict) and event.get("type") == "webhook.verification":
            data = event.get("data")
            challenge = data.get("challenge") if isinstance(data, dict) else None
            self._answer(200, json.dumps({"challenge": challenge}).encode())
            return
        # Your logic: drop duplicates by self.headers["webhook-id"] (the same
        # on every retry), hand slow work off, and answer fast.
        event_type = event.get("type") if isinstance(event, dict) else None
        print(json.dumps({"message": "webhook received", "webhook_id": self.headers.get("webhook-id"), "event_type": event_type}), flush=True)
        self._answer(204)

    def _answer(self, status, body=b""):
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # one line per webhook is printed above; no access log


def main():
    # A malformed secret is a configuration error: stop before serving.
    try:
        verify(SECRET, {}, b"")
    except ValueError as err:
        print(f"server.py: WEBHOOK_SECRET: {err}", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer((os.environ.get("HOST", ""), int(os.environ.get("PORT", "8080"))), WebhookHandler)
    print(f"listening on port {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
