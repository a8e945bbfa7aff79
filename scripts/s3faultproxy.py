#!/usr/bin/env python3
"""An HTTP proxy in front of the local S3 that can fail on demand.

    s3faultproxy.py --upstream http://127.0.0.1:PORT --mode-file FILE --port-file FILE

Listens on a free port of 127.0.0.1 (written to --port-file) and forwards
every request to --upstream unchanged, Host header included, so SigV4
signatures made for the proxy's address still verify upstream. Before each
request it reads --mode-file:

    pass     forward (also when the file is missing or empty)
    503      answer 503 SlowDown, as S3 does when throttling
    silent   read the request, then answer nothing until the mode changes;
             then close the connection without a response

Used by scripts/faults.py; loopback only.
"""

import argparse
import http.client
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "expect", "transfer-encoding", "proxy-connection", "te", "upgrade"}
SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


def make_handler(upstream, mode_file):
    target = urlsplit(upstream)

    def mode():
        try:
            with open(mode_file) as f:
                return f.read().strip() or "pass"
        except FileNotFoundError:
            return "pass"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, and 100-continue for PUTs

        def log_message(self, *args):  # quiet: the sink's log tells the story
            pass

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def relay(self):
            payload = self.body()
            current = mode()
            if current == "503":
                self.send_response(503, "Slow Down")
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(SLOW_DOWN)))
                self.end_headers()
                if self.command != "HEAD":  # a HEAD answer has no body
                    self.wfile.write(SLOW_DOWN)
                return
            if current == "silent":
                while mode() == "silent":
                    time.sleep(0.1)
                self.close_connection = True
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                conn.request(self.command, self.path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
            finally:
                conn.close()
            self.send_response(response.status, response.reason)
            for k, v in response.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--mode-file", required=True)
    p.add_argument("--port-file", required=True)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.upstream, args.mode_file))
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
