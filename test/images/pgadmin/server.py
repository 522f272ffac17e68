# Answers <SCRIPT_NAME>/misc/ping like pgAdmin; anything else 404. Listens on PGADMIN_LISTEN_PORT (default 80).
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = os.environ.get("SCRIPT_NAME", "").rstrip("/")
PORT = int(os.environ.get("PGADMIN_LISTEN_PORT", "80"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path.split("?")[0] == f"{PREFIX}/misc/ping"
        body = b"PING" if ok else b"not found"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


print(f"listening on {PORT}", flush=True)
ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
