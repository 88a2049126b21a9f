#!/usr/bin/env python3
"""A git server for the tests: `git http-backend` behind HTTP Basic auth, on 127.0.0.1.

    git_http_server.py ROOT CONFIG

ROOT holds bare repositories. CONFIG is a JSON file, read on every request so a test can change
the accepted tokens: {"repo-a.git": [["alice", "token"], ["*", "other"]], "*": [...]}. A pair
accepts that user name ("*": any) with that password; the key "*" applies to every repository
not named. The first line printed is the port. The server stops by itself after 10 minutes.
"""
import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # No __pycache__ beside the tests.
import git_cgi  # noqa: E402

ROOT, CONFIG = sys.argv[1], sys.argv[2]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def authorised(self, repo):
        with open(CONFIG) as f:
            config = json.load(f)
        pairs = config.get(repo, config.get("*", []))
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        for allowed_user, allowed_password in pairs:
            if allowed_user in ("*", user) and password == allowed_password:
                return user
        return None

    def handle_git(self):
        path, _, query = self.path.partition("?")
        repo = path.lstrip("/").split("/")[0]
        user = self.authorised(repo)
        if user is None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="tokenvault-test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        git_cgi.serve(self, ROOT, path, query, body, user)

    do_GET = handle_git
    do_POST = handle_git


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(600, server.shutdown).start()
server.serve_forever()
