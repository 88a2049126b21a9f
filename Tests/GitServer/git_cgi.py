"""`git http-backend` run as CGI for a request of the test servers' handlers."""
import os
import subprocess


def serve(handler, root, path, query, body, user):
    """Answers `handler`'s request for the repositories under `root`, as `user`."""
    env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL="1", REQUEST_METHOD=handler.command,
               PATH_INFO=path, QUERY_STRING=query, REMOTE_USER=user, REMOTE_ADDR="127.0.0.1",
               CONTENT_TYPE=handler.headers.get("Content-Type", ""), CONTENT_LENGTH=str(len(body)))
    if handler.headers.get("Content-Encoding"):
        env["HTTP_CONTENT_ENCODING"] = handler.headers["Content-Encoding"]
    if handler.headers.get("Git-Protocol"):
        env["GIT_PROTOCOL"] = handler.headers["Git-Protocol"]
    out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
    head, sep, payload = out.partition(b"\r\n\r\n")
    if not sep:
        head, _, payload = out.partition(b"\n\n")
    status, headers = 200, []
    for line in head.decode(errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            headers.append((name, value.strip()))
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)
