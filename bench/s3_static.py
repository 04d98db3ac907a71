#!/usr/bin/env python3
"""GETs of objects, whole or by range, from a directory, as an S3 server
answers them: for bench/offsite.sh only.

usage: s3_static.py PORT DIR BUCKET READY_FILE

The test server (@20minutes/s3rver, Node.js, one thread) spends about 3
CPU seconds on each GiB it sends, on the same two cores as the client it
is measured with, which bounds any restore --from on this machine. This
one sends a file with sendfile(2), nearly free, as a real S3 endpoint on
another machine would be for the client: what is left of a restore
--from is then the client's own cost. It checks no signature (the tests
do that, against s3rver) and answers nothing but GET and HEAD of
/BUCKET/KEY.
"""

import http.server
import os
import re
import socketserver
import sys

RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def object_path(self):
        path = self.path.split("?", 1)[0]
        prefix = "/" + self.server.bucket + "/"
        if not path.startswith(prefix) or ".." in path:
            return None
        return os.path.join(self.server.root, path[len(prefix):])

    def refuse(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def answer(self, body):
        path = self.object_path()
        if path is None or not os.path.isfile(path):
            self.refuse(404)
            return
        size = os.path.getsize(path)
        start, end, status = 0, size - 1, 200
        wanted = self.headers.get("Range")
        if wanted:
            m = RANGE.match(wanted)
            if not m:
                self.refuse(400)
                return
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
            if start >= size:
                self.refuse(416)
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("ETag", '"%x-%x"' % (size, int(os.path.getmtime(path))))
        if status == 206:
            self.send_header("Content-Range",
                             "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if not body:
            return
        with open(path, "rb") as f:
            # A file opened for each range starts with the kernel's
            # smallest read-ahead: ask for the range whole, as a server
            # reading its disk ahead of the network would.
            os.posix_fadvise(f.fileno(), start, end - start + 1,
                             os.POSIX_FADV_WILLNEED)
            self.wfile.flush()
            self.connection.sendfile(f, start, end - start + 1)

    def do_GET(self):
        self.answer(True)

    def do_HEAD(self):
        self.answer(False)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    port, root, bucket, ready = sys.argv[1:5]
    server = Server(("127.0.0.1", int(port)), Handler)
    server.root, server.bucket = root, bucket
    open(ready, "w").close()
    server.serve_forever()


if __name__ == "__main__":
    main()
