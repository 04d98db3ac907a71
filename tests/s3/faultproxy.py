#!/usr/bin/env python3
"""A proxy of the offsite tests' own in front of the S3 server, to produce
the faults and replies a real one gives only under load or with features
the test server lacks.

    faultproxy.py PORT UPSTREAM_PORT CONTROL_FILE READY_FILE

CONTROL_FILE holds a JSON object, read at every request, so a test
changes the faults between commands:

    slowdown N        the next N requests answer 503 SlowDown
    drop_parts N      the next N part uploads lose their connection after
                      part of the body
    fail_parts        every part upload answers 503 (a permanent failure)
    block_part N      part N waits (touching CONTROL_FILE.blocked) until
                      the control file no longer asks for it
    lock_until DATE   HEAD replies carry this object lock end date
    deny_range [A, B] ranged GETs of archives starting at an offset from
                      A to B - 1 answer 403 AccessDenied (not retried)

Counts are decremented in the file. Every request line is appended to
CONTROL_FILE.log with its object lock headers, if any.
"""
import http.client
import http.server
import json
import os
import sys
import threading
import time

PORT, UPSTREAM, CONTROL, READY = (int(sys.argv[1]), int(sys.argv[2]),
                                  sys.argv[3], sys.argv[4])
lock = threading.Lock()

DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>'
          b'AccessDenied</Code><Message>Access Denied</Message></Error>')
SLOWDOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown'
            b'</Code><Message>Please reduce your request rate.</Message>'
            b'</Error>')


def control():
    try:
        with open(CONTROL) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def take(key):
    """Decrements control[key] when positive; whether it was."""
    with lock:
        c = control()
        if c.get(key, 0) > 0:
            c[key] -= 1
            with open(CONTROL + ".tmp", "w") as f:
                json.dump(c, f)
            os.rename(CONTROL + ".tmp", CONTROL)
            return True
        return False


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def note(self):
        locks = {k: v for k, v in self.headers.items()
                 if k.lower().startswith("x-amz-object-lock")}
        with lock, open(CONTROL + ".log", "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path,
                                    json.dumps(locks) if locks else ""))

    def body(self):
        length = int(self.headers.get("Content-Length", 0))
        return self.rfile.read(length) if length else b""

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def relay(self):
        self.note()
        is_part = self.command == "PUT" and "partNumber=" in self.path
        c = control()
        if take("slowdown"):
            self.body()
            return self.answer(503, SLOWDOWN,
                               [("Content-Type", "application/xml")])
        if (self.command == "GET" and "/archives/" in self.path and
                "deny_range" in c and
                self.headers.get("Range", "").startswith("bytes=") and
                c["deny_range"][0] <=
                int(self.headers["Range"][6:].split("-")[0]) <
                c["deny_range"][1]):
            return self.answer(403, DENIED,
                               [("Content-Type", "application/xml")])
        if is_part and c.get("fail_parts"):
            self.body()
            return self.answer(503, SLOWDOWN,
                               [("Content-Type", "application/xml")])
        if is_part and take("drop_parts"):
            length = int(self.headers.get("Content-Length", 0))
            self.rfile.read(min(length, 65536))
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if is_part and ("partNumber=%d&" % c.get("block_part", 0) in
                        self.path + "&"):
            open(CONTROL + ".blocked", "w").close()
            while ("partNumber=%d&" % control().get("block_part", 0) in
                   self.path + "&"):
                time.sleep(0.05)
        data = self.body()
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM,
                                              timeout=60)
        headers = {k: v for k, v in self.headers.items()}
        upstream.request(self.command, self.path, body=data or None,
                         headers=headers)
        reply = upstream.getresponse()
        payload = reply.read()
        extra = []
        if self.command == "HEAD" and c.get("lock_until") and \
                "/archives/" in self.path:
            extra.append(("x-amz-object-lock-mode", "COMPLIANCE"))
            extra.append(("x-amz-object-lock-retain-until-date",
                          c["lock_until"]))
        self.send_response(reply.status)
        for k, v in reply.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding",
                                 "connection"):
                self.send_header(k, v)
        for k, v in extra:
            self.send_header(k, v)
        length = reply.getheader("Content-Length")
        if self.command == "HEAD" and length is not None:
            self.send_header("Content-Length", length)
        else:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Proxy)
server.daemon_threads = True
with open(READY, "w") as f:
    f.write("%d\n" % os.getpid())
server.serve_forever()
