#!/usr/bin/env python3
"""A bad release for the README's deployment walkthrough: answers every fifth request with a 500.

    python3 examples/flaky-origin.py 9102
"""
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

count = 0
lock = threading.Lock()


class Flaky(BaseHTTPRequestHandler):
    def do_GET(self):
        global count
        with lock:
            count += 1
            bad = count % 5 == 0
        body = b"green is broken\n" if bad else b"hello from green (broken build)\n"
        self.send_response(500 if bad else 200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9102
    ThreadingHTTPServer(("127.0.0.1", port), Flaky).serve_forever()
