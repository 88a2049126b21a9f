#!/usr/bin/env python3
"""A stand-in for GitLab in the tests: HTTPS on 127.0.0.1, the three personal access token
endpoints as GitLab documents them, and git over HTTP(S) for the same tokens.

    gitlab_stand_in.py CERT KEY STATE LOG [REPOS]

STATE is a JSON file the server reads at start and rewrites after every change:
  {"tokens": {"<token>": {"id": 1, "name": "ci", "scopes": ["api"], "expires_at": "2027-01-01",
                          "revoked": false, "family": 1}},
   "mode": {"rotate": "ok" | "500" | "delay" | "404" | "429" | "hold"}, "delay": 3}
LOG gets one JSON line per request: method, path, query, headers, body (the test searches it for
the token). REPOS, when given, holds bare repositories served to git behind Basic auth, where
any active token is accepted as the password.

Behaviour, as GitLab's REST API documents it (personal_access_tokens):
  GET    /api/v4/personal_access_tokens/self          200 the token; 401 unknown, revoked or expired
  POST   /api/v4/personal_access_tokens/self/rotate   200 a new token (the old one revoked);
         401 for a revoked token, which also revokes every token of its family; 403 without the
         api or self_rotate scope; expires_at from the JSON body or the query, else a week
  DELETE /api/v4/personal_access_tokens/self          204, the token revoked
  GET    /api/v4/personal_access_tokens/:id           200 the token with that id, to a token of
         the same user ("user_id" in STATE, else 1) or of an instance administrator ("admin":
         true); 404 for any other token's (or no such id); 401 when the asking token is unknown,
         revoked or expired; 403 without the api or read_api scope. Only the asking token's use
         is counted.
Modes for rotate: "500" revokes the old token, then fails; "delay" rotates, then answers after
STATE's "delay" seconds (past the client's timeout); "hold" rotates, answers, then creates
STATE.answered (the test then kills the client); "404" as a GitLab older than 16.10;
"429" rate-limited; "401" refuses the token; "badtoken" rotates but answers a malformed token;
"sparse" rotates and answers the new token alone (no id, scopes, expiry or state);
"stall" sends the whole answer but announces it longer, so the client times out waiting.
Mode "self": "empty" answers GET self with an empty object (not GitLab's answer); "delay" answers
it after STATE's "delay" seconds.

Use, as GitLab records it: a token's "last_used_at" and "last_used_ips" (from STATE, else none)
are in its description. Every API request a token authenticates counts as a use, as in GitLab
(PersonalAccessTokens::LastUsedService): last_used_at moves to now when it is more than 10
minutes old, and the caller's address joins last_used_ips (the last five distinct). Mode
"uses": "uncounted" leaves both as STATE has them (GitLab's record as it stood before the
request: what a question that does not count would read).
Mode "prefix" (e.g. "/gitlab") installs GitLab under that path, as GitLab's
relative_url_root: the API and git are served under it, and nothing at the root (404, HTML).
Mode "proxy": "html" or "empty" puts a proxy with its own sign-in in front: every API request
is answered 401 with an HTML page or no body (not GitLab's JSON), and never reaches GitLab.

CI/CD variables, as GitLab's REST API documents them (project_level_variables,
group_level_variables), for the projects and groups STATE names:
  {"projects": {"team/app": 11}, "groups": {"team": 5},
   "variables": {"project:team/app": [{"key": "K", "value": "v", "environment_scope": "*",
                                       "masked": true, "hidden": false, "protected": false}]}}
  GET  /api/v4/projects/:id/variables/:key[?filter[environment_scope]=S]  200; 404 when none;
       a hidden variable's value is null
  POST /api/v4/projects/:id/variables                                    201 (masked_and_hidden
       hides it); 400 when the key is taken at that scope or a masked value is too short
  PUT  /api/v4/projects/:id/variables/:key[?filter[environment_scope]=S]  200; 400 when masked
       is sent for a hidden variable
  and the same under /api/v4/groups/:id. :id is the numeric id or the URL-encoded path (without
  "projects" or "groups" in STATE, every path exists, as itself). The
  token in PRIVATE-TOKEN must be active (else 401); writing needs the api scope (else 403).
STATE's "variable_mode" makes one variable ("project:team/app:KEY") answer "403", "500", or
"hang" (no answer for 20 s); "nofilter" ignores filter[environment_scope] (as group variables
before GitLab 16.9: the first variable with the key answers); "novalue" shows it without its
value (although not hidden); "echo" refuses a write (400) with a message that repeats the value;
"gateway" answers a write with a 2xx and an HTML page (a gateway's), writing nothing.
A test changes the server's state while it runs by writing STATE.patch (read and removed before
the next request): {"variable_mode": {...}} replaces the modes, {"mode": {...}} is merged into
the modes, {"set": [["project:team/app", "KEY", "*", "value"]]} changes values behind the client,
{"add": [["project:team/app", {"key": ..., "value": ..., ...}]]} adds variables,
{"tokens": {"<token>": {"revoked": true}}} changes tokens' fields.

The first line printed is the port. The server stops by itself after 10 minutes.
"""
import base64
import datetime
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # No __pycache__ beside the tests.
import git_cgi  # noqa: E402

CERT, KEY, STATE, LOG = sys.argv[1:5]
REPOS = sys.argv[5] if len(sys.argv) > 5 else None
lock = threading.Lock()
with open(STATE) as f:
    state = json.load(f)
state.setdefault("mode", {})


def save():
    with open(STATE + ".tmp", "w") as f:
        json.dump(state, f)
    os.replace(STATE + ".tmp", STATE)


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def active(info):
    if info["revoked"]:
        return False
    expires = info.get("expires_at")
    return expires is None or datetime.date.fromisoformat(expires) > today()


def apply_patch():
    """Applies and removes STATE.patch, a test's change to the server's state (under lock)."""
    try:
        with open(STATE + ".patch") as f:
            patch = json.load(f)
    except FileNotFoundError:
        return
    os.remove(STATE + ".patch")
    if "variable_mode" in patch:
        state["variable_mode"] = patch["variable_mode"]
    state["mode"].update(patch.get("mode", {}))
    for token, fields in patch.get("tokens", {}).items():
        state["tokens"][token].update(fields)
    for owner, variable in patch.get("add", []):
        state.setdefault("variables", {}).setdefault(owner, []).append(
            dict({"environment_scope": "*", "masked": True, "hidden": False, "protected": False}, **variable))
    for owner, key, scope, value in patch.get("set", []):
        for variable in state.setdefault("variables", {}).setdefault(owner, []):
            if variable["key"] == key and variable["environment_scope"] == scope:
                variable["value"] = value
    save()


def public_variable(variable):
    shown = dict({"variable_type": "env_var", "raw": False, "description": None}, **variable)
    if variable.get("hidden"):
        shown["value"] = None
    return shown


def public(info):
    return {"id": info["id"], "name": info["name"], "revoked": info["revoked"],
            "created_at": info.get("created_at", "2026-01-01T00:00:00.000Z"), "scopes": info["scopes"], "user_id": info.get("user_id", 1),
            "last_used_at": info.get("last_used_at"), "last_used_ips": info.get("last_used_ips", []),
            "active": active(info), "expires_at": info.get("expires_at")}


def count_use(info, address):
    """GitLab's LastUsedService: the time when more than 10 minutes old, the address always."""
    if state["mode"].get("uses") == "uncounted":
        return
    now = datetime.datetime.now(datetime.timezone.utc)
    last = info.get("last_used_at")
    if last is None or datetime.datetime.fromisoformat(last.replace("Z", "+00:00")) < now - datetime.timedelta(minutes=10):
        info["last_used_at"] = now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)
    ips = [ip for ip in info.get("last_used_ips", []) if ip != address] + [address]
    info["last_used_ips"] = ips[-5:]
    save()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, body):
        path, _, query = self.path.partition("?")
        entry = {"method": self.command, "path": path, "query": query,
                 "headers": [[k, v] for k, v in self.headers.items()], "body": body.decode(errors="replace")}
        with lock, open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def answer(self, status, payload=None, headers=()):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.page(status, data, headers, "application/json")

    def page(self, status, data, headers=(), content_type="text/html"):
        self.send_response(status)
        if data:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self):
        body = self.body()
        self.record(body)
        path, _, query = self.path.partition("?")
        with lock:
            apply_patch()
        prefix = state["mode"].get("prefix", "")
        if prefix:
            if not path.startswith(prefix + "/"):
                return self.page(404, b"<html><body>Not Found</body></html>")
            path = path[len(prefix):]
        if not path.startswith("/api/"):
            return self.git(path, query, body)
        proxy = state["mode"].get("proxy")
        if proxy:
            page = b"<html><head><title>401 Authorization Required</title></head><body>proxy sign-in</body></html>"
            return self.page(401, page if proxy == "html" else b"", [("WWW-Authenticate", 'Basic realm="proxy"')])
        token = self.headers.get("PRIVATE-TOKEN", "")
        parts = path.split("/")
        if len(parts) in (6, 7) and parts[3] in ("projects", "groups") and parts[5] == "variables":
            return self.variables(parts, query, body, token)
        if path == "/api/v4/personal_access_tokens/self" and self.command == "GET" and state["mode"].get("self") == "delay":
            time.sleep(state.get("delay", 3))
        with lock:
            info = state["tokens"].get(token)
            if info is not None and active(info):
                count_use(info, self.client_address[0])
            if path == "/api/v4/personal_access_tokens/self" and self.command == "GET":
                if state["mode"].get("self") == "empty":
                    return self.answer(200, {})
                if info is None or not active(info):
                    return self.answer(401, {"message": "401 Unauthorized"})
                return self.answer(200, public(info))
            by_id = path[len("/api/v4/personal_access_tokens/"):] if path.startswith("/api/v4/personal_access_tokens/") else ""
            if by_id.isdigit() and self.command == "GET":
                if info is None or not active(info):
                    return self.answer(401, {"message": "401 Unauthorized"})
                if "api" not in info["scopes"] and "read_api" not in info["scopes"]:
                    return self.answer(403, {"error": "insufficient_scope",
                                             "error_description": "The request requires higher privileges than provided by the access token."})
                target = next((t for t in state["tokens"].values() if t["id"] == int(by_id)), None)
                if target is None or (target.get("user_id", 1) != info.get("user_id", 1) and not info.get("admin")):
                    return self.answer(404, {"message": "404 Not Found"})
                return self.answer(200, public(target))
            if path == "/api/v4/personal_access_tokens/self" and self.command == "DELETE":
                if info is None or not active(info):
                    return self.answer(401, {"message": "401 Unauthorized"})
                info["revoked"] = True
                save()
                return self.answer(204)
            if path == "/api/v4/personal_access_tokens/self/rotate" and self.command == "POST":
                mode = state["mode"].get("rotate", "ok")
                if mode == "404":
                    return self.answer(404, {"error": "404 Not Found"})
                if mode == "429":
                    return self.answer(429, {"message": "Retry later"}, [("Retry-After", "30")])
                if mode == "401":
                    return self.answer(401, {"message": "401 Unauthorized"})
                if info is None:
                    return self.answer(401, {"message": "401 Unauthorized"})
                if info["revoked"]:
                    # Reuse of a rotated token: GitLab revokes the whole family.
                    for other in state["tokens"].values():
                        if other["family"] == info["family"]:
                            other["revoked"] = True
                    save()
                    return self.answer(401, {"message": "401 Unauthorized"})
                if not active(info):
                    return self.answer(401, {"message": "401 Unauthorized"})
                if "api" not in info["scopes"] and "self_rotate" not in info["scopes"]:
                    return self.answer(403, {"error": "insufficient_scope",
                                             "error_description": "The request requires higher privileges than provided by the access token."})
                expires = urllib.parse.parse_qs(query).get("expires_at", [None])[0]
                if body:
                    expires = json.loads(body).get("expires_at", expires)
                if expires is None:
                    expires = (today() + datetime.timedelta(days=7)).isoformat()
                info["revoked"] = True
                if mode == "500":
                    save()
                    return self.answer(500, {"message": "500 Internal Server Error"})
                new = "glpat-" + secrets.token_urlsafe(15).replace("-", "x").replace("_", "y")
                created = dict(info, id=max(t["id"] for t in state["tokens"].values()) + 1,
                               revoked=False, expires_at=expires)
                state["tokens"][new] = created
                save()
                reply = dict(public(created), token="x y\u007f" if mode == "badtoken" else new)
                if mode == "sparse":
                    reply = {"token": new}
            else:
                return self.answer(404, {"error": "404 Not Found"})
        if mode == "delay":
            time.sleep(state.get("delay", 3))
        if mode == "stall":
            # The whole answer, but announced longer than it is: the client waits for the rest.
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            time.sleep(30)
            return
        self.answer(200, reply)
        if mode == "hold":
            open(STATE + ".answered", "w").close()
            time.sleep(30)

    def variables(self, parts, query, body, token):
        kind = parts[3][:-1]
        ident = urllib.parse.unquote(parts[4])
        key = urllib.parse.unquote(parts[6]) if len(parts) == 7 else None
        if self.headers.get("Content-Type", "").startswith("application/json"):
            fields = json.loads(body or b"{}")
        else:
            fields = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        if key is None:
            key = fields.get("key", "")
        scope = urllib.parse.parse_qs(query).get("filter[environment_scope]", [None])[0]
        with lock:
            apply_patch()
            mode = state.get("variable_mode", {})
            owners = state.get(kind + "s")
            if owners is None:
                path = ident  # No list in STATE: every project or group exists.
            else:
                path = next((p for p, i in owners.items() if p == ident or str(i) == ident), None)
            variable_mode = mode.get("%s:%s:%s" % (kind, path, key)) if path else None
        if variable_mode == "hang":
            time.sleep(20)
            return
        with lock:
            info = state["tokens"].get(token)
            if info is None or not active(info):
                return self.answer(401, {"message": "401 Unauthorized"})
            if "api" not in info["scopes"] and not (self.command == "GET" and "read_api" in info["scopes"]):
                return self.answer(403, {"error": "insufficient_scope"})
            if path is None:
                return self.answer(404, {"message": "404 %s Not Found" % kind.capitalize()})
            if variable_mode == "403":
                return self.answer(403, {"message": "403 Forbidden"})
            if variable_mode == "500":
                return self.answer(500, {"message": "500 Internal Server Error"})
            listed = state.setdefault("variables", {}).setdefault(kind + ":" + path, [])
            if variable_mode == "nofilter":
                scope = None
            matches = [v for v in listed if v["key"] == key and (scope is None or v["environment_scope"] == scope)]
            if variable_mode == "nofilter":
                matches = matches[:1]
            if variable_mode == "gateway" and self.command in ("POST", "PUT"):
                return self.page(201 if self.command == "POST" else 200, b"<html><body>Signed in</body></html>")
            if variable_mode == "echo" and self.command in ("POST", "PUT"):
                return self.answer(400, {"message": "the value %s is not accepted" % fields.get("value")})
            if self.command == "POST" and len(parts) == 6:
                scope = fields.get("environment_scope", "*")
                if any(v["key"] == key and v["environment_scope"] == scope for v in listed):
                    return self.answer(400, {"message": {"key": ["(%s) has already been taken" % key]}})
                hidden = fields.get("masked_and_hidden") in (True, "true")
                masked = hidden or fields.get("masked") in (True, "true")
                value = fields.get("value", "")
                if masked and len(value) < 8:
                    return self.answer(400, {"message": {"value": ["is invalid"]}})
                created = {"key": key, "value": value, "environment_scope": scope, "masked": masked,
                           "hidden": hidden, "protected": fields.get("protected") in (True, "true")}
                listed.append(created)
                save()
                return self.answer(201, public_variable(created))
            if len(matches) > 1:
                return self.answer(409, {"message": "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'"})
            if not matches:
                return self.answer(404, {"message": "404 Variable Not Found"})
            variable = matches[0]
            if self.command == "GET":
                shown = public_variable(variable)
                if variable_mode == "novalue":
                    del shown["value"]
                return self.answer(200, shown)
            if self.command == "PUT":
                if variable.get("hidden") and "masked" in fields:
                    return self.answer(400, {"message": "The visibility setting cannot be changed for masked and hidden variables."})
                if "value" in fields:
                    variable["value"] = fields["value"]
                if "protected" in fields:
                    variable["protected"] = fields["protected"] in (True, "true")
                if "masked" in fields:
                    variable["masked"] = fields["masked"] in (True, "true")
                save()
                return self.answer(200, public_variable(variable))
            return self.answer(405, {"message": "405 Method Not Allowed"})

    def git(self, path, query, body):
        header = self.headers.get("Authorization", "")
        password = ""
        if header.startswith("Basic "):
            password = base64.b64decode(header[6:]).decode().partition(":")[2]
        with lock:
            info = state["tokens"].get(password)
            ok = REPOS is not None and info is not None and active(info)
        if not ok:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="gitlab-stand-in"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        git_cgi.serve(self, REPOS, path, query, body, "user")

    do_GET = handle_any
    do_POST = handle_any
    do_DELETE = handle_any
    do_PUT = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERT, KEY)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
threading.Timer(600, server.shutdown).start()
server.serve_forever()
