#!/usr/bin/python3
"""A CRM's webhook endpoint for the tests: records every POST (headers and body) as a JSON line
and answers 500 to the first FAIL_FIRST of them. Usage: sink.py PORT OUT_FILE FAIL_FIRST"""
import http.server, json, sys

port, out, fail_first = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8")
        seen += 1
        status = 500 if seen <= fail_first else 200
        with open(out, "a") as f:
            f.write(json.dumps({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body, "status": status}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
