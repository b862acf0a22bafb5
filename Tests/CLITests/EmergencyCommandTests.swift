import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `edgenode emergency` when nothing answers or the arguments are wrong: precise messages and the documented exit
/// statuses (2 for arguments and keys, 1 when no node took or answered), never a flag signed blind.
@Suite struct EmergencyCommandTests {
    @Test func argumentErrorsExitTwoAndUnreachableNodesExitOne() throws {
        let scratch = try TemporaryDirectory("emergency-cli")
        defer { scratch.remove() }
        _ = try EdgeNodeBinary.run(["operator", "keygen", "--out", scratch.path + "/alice", "--name", "alice"])
        // Nothing listens on these: a port from the discard range on addresses no test uses.
        try """
            [fleet]
            name = "f"
            operator_keys = ["alice.pub"]

            [[node]]
            name = "origin-1"
            role = "origin"
            region = "eu"
            latitude = 0
            longitude = 0
            http = "127.0.0.1:9"
            content = "c"

            [[node]]
            name = "mesh-1"
            role = "mesh"
            region = "eu"
            latitude = 0
            longitude = 0
            http = "127.0.0.2:9"
            content = "m"
            parents = ["origin-1"]
            origin_key = "origin.pub"
            """.write(toFile: scratch.path + "/nodes.conf", atomically: true, encoding: .utf8)
        let config = ["--config", scratch.path + "/nodes.conf"]
        let key = ["--key", scratch.path + "/alice.key"]

        let unknown = try EdgeNodeBinary.run(["emergency", "on", "--reason", "r", "--node", "nope"] + key + config)
        #expect(unknown.status == 2 && unknown.stderr.contains("no node named \"nope\""), "\(unknown.stderr)")
        let missingKey = try EdgeNodeBinary.run(["emergency", "on", "--reason", "r", "--key", scratch.path + "/none.key"] + config)
        #expect(missingKey.status == 2 && missingKey.stderr.contains("none.key"), "\(missingKey.stderr)")
        let missingConfig = try EdgeNodeBinary.run(["emergency", "status", "--config", scratch.path + "/nope.conf"])
        #expect(missingConfig.status == 2, "\(missingConfig.stderr)")

        let blind = try EdgeNodeBinary.run(["emergency", "on", "--reason", "r", "--timeout", "1"] + key + config)
        #expect(blind.status == 1 && blind.stderr.contains("no node of") && blind.stderr.contains("the current epoch is unknown"),
                "\(blind.stderr)")
        #expect(blind.stderr.contains("origin-1: connection refused") && blind.stderr.contains("mesh-1: connection refused"))
        let status = try EdgeNodeBinary.run(["emergency", "status", "--timeout", "1"] + config)
        #expect(status.status == 1 && status.stdout.contains("origin-1") && status.stdout.contains("unreachable"), "\(status.stdout)")
    }

    /// Issue 24 (hostile run): a node — or an impostor at its address — answering a made-up epoch (2^64 − 2, no signed
    /// flag) once made the CLI sign the last representable epoch, which locked the fleet's mode for good and made the
    /// next flip trap. Only verified flags' epochs count now; the impostor is named and ignored, `status` says so.
    @Test func anUnverifiedEpochIsIgnored() async throws {
        // On threads of its own: it waits on processes with blocking calls.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try Self.checkImpostor() }
    }

    static func checkImpostor() throws {
        let scratch = try TemporaryDirectory("emergency-impostor")
        defer { scratch.remove() }
        _ = try EdgeNodeBinary.run(["operator", "keygen", "--out", scratch.path + "/alice", "--name", "alice"])
        let impostor = LoopbackAddress.next(), honest = LoopbackAddress.next()
        try """
            [fleet]
            name = "f"
            operator_keys = ["alice.pub"]

            [[node]]
            name = "origin-1"
            role = "origin"
            region = "eu"
            latitude = 0
            longitude = 0
            http = "\(impostor):18771"
            content = "c"

            [[node]]
            name = "mesh-1"
            role = "mesh"
            region = "eu"
            latitude = 0
            longitude = 0
            http = "\(honest):18771"
            content = "m"
            parents = ["origin-1"]
            origin_key = "origin.pub"
            """.write(toFile: scratch.path + "/nodes.conf", atomically: true, encoding: .utf8)
        // Answers GET with `status` and a POST with the flag as taken at epoch 1.
        let server = """
            import http.server, json, sys
            status = json.loads(sys.argv[3])
            class Handler(http.server.BaseHTTPRequestHandler):
                def log_message(self, *args): pass
                def answer(self, body):
                    data = json.dumps(body).encode()
                    self.send_response(200); self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
                def do_GET(self): self.answer(status)
                def do_POST(self):
                    self.rfile.read(int(self.headers["Content-Length"]))
                    self.answer({"node": status["node"], "mode": "on", "epoch": 1, "signedBy": ["alice"]})
            http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
            """
        func fake(_ host: String, _ status: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", server, host, "18771", status]
            try process.run()
            return process
        }
        let servers = [try fake(impostor, #"{"node":"origin-1","mode":"on","epoch":18446744073709551614,"signedBy":["alice"],"issuedAt":0,"reason":"x"}"#),
                       try fake(honest, #"{"node":"mesh-1","mode":"off","epoch":0,"signedBy":[]}"#)]
        defer {
            for server in servers { kill(server.processIdentifier, SIGKILL) }
            _ = FleetSupervisorTests.poll(10) { servers.allSatisfy { !$0.isRunning } }
        }
        for host in [impostor, honest] {
            #expect(FleetSupervisorTests.poll(10) { (try? RawHTTPConnection.get(host, 18771, "/fleet/emergency").status) == 200 })
        }
        let config = ["--config", scratch.path + "/nodes.conf"]
        let flip = try EdgeNodeBinary.run(["emergency", "on", "--reason", "drill", "--key", scratch.path + "/alice.key", "--timeout", "3"] + config)
        #expect(flip.status == 0 && flip.stdout.contains("at epoch 1,"), "\(flip.stdout) \(flip.stderr)")
        #expect(flip.stderr.contains("origin-1: answered epoch 18446744073709551614 without its signed flag (ignored)"), "\(flip.stderr)")
        let status = try EdgeNodeBinary.run(["emergency", "status", "--timeout", "3"] + config)
        #expect(status.stdout.contains("unverified") && !status.stdout.contains("18446744073709551614  alice"), "\(status.stdout)")
    }
}
