import Foundation
import Testing
import TokenVaultHTTP
import TokenVaultOpenBao
@testable import TokenVault

/// OpenBao's answers are hostile input: a stand-in server on loopback sends what a broken or
/// malicious server could, and the client answers each with a typed error (never a trap); and
/// against a real server, check-and-set keeps a teammate's change.
@Suite struct OpenBaoAnswerTests {
    static let standIn = """
        import http.server, json, sys
        ok_time = "2026-12-02T08:00:00.123456Z"
        def entry(data, version=1):
            return {"data": {"data": data, "metadata": {"version": version, "created_time": ok_time, "deletion_time": "", "destroyed": False}}}
        routes = {
            "notjson": (200, b"<html>gateway</html>"),
            "huge": (200, b'{"data":"' + b"a" * 100000 + b'"}'),
            "wrongtypes": (200, json.dumps({"data": {"data": {"token": 5}, "metadata": {"version": "one"}}}).encode()),
            "notoken": (200, json.dumps(entry({"user": "x"})).encode()),
            "hostile": (200, json.dumps(entry({"token": "glpat-hostileAAAAAAAAAA1", "url": "javascript:alert(1)", "username": "a\\u001b[31mb",
                                               "scopes": "api " * 100, "expires": "tomorrow", "kind": "evil", "rotate_every": "-5d",
                                               "notes": "line\\u001b]0;title\\u0007"})).encode()),
            "deep": (200, b'{"data":' + b"[" * 5000 + b"]" * 5000 + b"}"),
            "denied": (403, b'{"errors":["1 error occurred:\\n\\t* permission denied\\n\\n"]}'),
            "sealed": (503, b'{"errors":["Vault is sealed"]}'),
            "standby": (500, b'{"errors":["local node not active but active cluster node not found"]}'),
            "escape": (500, json.dumps({"errors": ["\\u001b[2J\\u001b]0;pwned\\u0007boom"]}).encode()),
        }
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                if self.path.endswith("lookup-self"):
                    body = json.dumps({"data": {"policies": ["default"], "ttl": 0, "renewable": False}}).encode(); status = 200
                elif "/metadata/" in self.path and "list=true" in self.path:
                    body = json.dumps({"data": {"keys": ["k%d" % i for i in range(20000)]}}).encode(); status = 200
                else:
                    status, body = routes.get(self.path.split("/")[-1].split("?")[0], (404, b'{"errors":[]}'))
                self.send_response(status); self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """

    @Test func everyHostileAnswerIsATypedErrorOrADroppedField() throws {
        let server = BackgroundProcess(["/usr/bin/python3", "-c", Self.standIn], environment: ["PATH": "/usr/bin:/bin"])
        let remote = RemoteSettings(name: "team", urls: ["http://127.0.0.1:\(server.firstLine)"], credential: .token(Secret("s.root")))
        var client = OpenBaoClient(remote: remote, transport: CurlTransport())
        func failure(_ name: String) -> OpenBaoError? {
            do { _ = try client.read(name); return nil } catch { return error }
        }
        #expect(failure("notjson") == .unreadableAnswer(remote: "team", what: "not JSON, status 200"))
        #expect(failure("huge") == .unreadableAnswer(remote: "team", what: "larger than 64 KiB"))
        #expect(failure("wrongtypes") == .unreadableAnswer(remote: "team", what: "a KV read"))
        #expect(failure("notoken") == .notAnEntry(remote: "team", name: "notoken"))
        #expect(failure("deep") == .unreadableAnswer(remote: "team", what: "not JSON, status 200"))
        #expect(failure("denied") == .denied(remote: "team", path: "secret/data/tokenvault/denied", operation: "read"))
        #expect(failure("sealed") == .sealed(remote: "team"))
        #expect(failure("standby") == .standby(remote: "team"))
        #expect(failure("missing") == .notFound(remote: "team", name: "missing"))
        guard case .server(_, 500, let message)? = failure("escape") else { Issue.record("not a server error"); return }
        #expect(!message.contains("\u{1B}") && !message.contains("\u{07}") && message.contains("boom"))
        #expect(throws: OpenBaoError.unreadableAnswer(remote: "team", what: "larger than 64 KiB")) { _ = try client.list("") }
        // Fields that break a local entry's rules are dropped, and the notes say which.
        let hostile = try client.read("hostile")
        #expect(hostile.secret.revealString() == "glpat-hostileAAAAAAAAAA1")
        #expect(hostile.entry.url == nil && hostile.entry.username == nil && hostile.entry.scopes.isEmpty && hostile.entry.expires == nil)
        #expect(hostile.entry.kind == .generic && hostile.entry.rotateEvery == nil)
        #expect(hostile.entry.notes?.contains("ignored: kind, url, username, scopes, expires, notes") == true, "\(hostile.entry.notes ?? "")")
    }

    /// A server that answers every request, slowly: a second each, 40 entries for other hosts.
    static let slowStandIn = """
        import http.server, json, time
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                time.sleep(1)
                if self.path.endswith("lookup-self"):
                    body = {"data": {"policies": ["default"], "ttl": 0, "renewable": False}}
                elif "list=true" in self.path:
                    body = {"data": {"keys": ["e%d" % i for i in range(40)]}}
                else:
                    body = {"data": {"data": {"token": "glpat-slowAAAAAAAAAAAAAA1", "url": "https://other.example.com"},
                                     "metadata": {"version": 1, "created_time": "2026-12-02T08:00:00Z", "deletion_time": "", "destroyed": False}}}
                data = json.dumps(body).encode()
                self.send_response(200); self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """

    @Test func gitsHelperAnswersNothingWithinItsBoundWhenARemoteAnswersEveryRequestSlowly() {
        let server = BackgroundProcess(["/usr/bin/python3", "-c", Self.slowStandIn], environment: ["PATH": "/usr/bin:/bin"])
        let cli = CLI()
        let added = cli.vault(["remote", "add", "team", "--url", "http://127.0.0.1:\(server.firstLine)"], stdin: .data("s.slowroot"))
        #expect(added.status == 0, "\(added.err)")
        let start = ContinuousClock.now
        let get = cli.gitHelperGet(host: "gitlab.example.com")
        let took = ContinuousClock.now - start
        #expect(get.status == 0 && get.out.isEmpty, "\(get.out) \(get.err)")
        // Forty-odd requests of a second each, one after the other, without a bound on the whole.
        #expect(took < .seconds(12), "git waited \(took)")
    }

    @Test func aWriteOverAVersionATeammateReplacedWritesNothing() throws {
        let server = OpenBaoServer()
        let remote = RemoteSettings(name: "team", urls: [server.address], credential: .token(Secret(server.rootToken)))
        var mine = OpenBaoClient(remote: remote, transport: CurlTransport())
        var theirs = OpenBaoClient(remote: remote, transport: CurlTransport())
        try mine.write("deploy", entry: Entry(name: "team/deploy"), secret: Secret("glpat-firstAAAAAAAAAAAAA1"), cas: 0)
        let read = try mine.read("deploy")
        try theirs.write("deploy", entry: read.entry, secret: Secret("glpat-theirsBBBBBBBBBBBB2"), cas: read.version)
        #expect(throws: OpenBaoError.changedMeanwhile(remote: "team", name: "deploy")) {
            try mine.write("deploy", entry: read.entry, secret: Secret("glpat-mineCCCCCCCCCCCCCC3"), cas: read.version)
        }
        #expect(try mine.read("deploy").secret.revealString() == "glpat-theirsBBBBBBBBBBBB2")
        #expect(try mine.versions("deploy").versions.count == 2)
        // An entry that exists is never overwritten by an add.
        #expect(throws: OpenBaoError.exists(remote: "team", name: "deploy", inTrash: false)) {
            try mine.write("deploy", entry: read.entry, secret: Secret("glpat-mineCCCCCCCCCCCCCC3"), cas: 0)
        }
    }
}
