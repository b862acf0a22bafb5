import Control
import EdgeNode
import Foundation
import Manifest
import Royalty
import Testing
import TestSupport

/// An origin whose control API speaks HTTPS (it has `tls_cert`), with real processes: an edge's delivery reports and
/// the CLI go over TLS verified against `[fleet] tls_ca` (refused while the CA is another, delivered after a reload
/// with the right one); `ledger verify --url https://…` against `--tls-ca`; the certificate rotated by SIGHUP, and a
/// broken one refused.
@Suite struct ControlTLSProcessTests {
    /// Waits up to `seconds` for `condition`.
    static func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)
        }
        return try condition()
    }

    @Test func reportsAndTheCLIAreVerifiedAgainstTheFleetCA() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let origin = try ControlProcessTests.Origin(extra: "[royalty]\nview_period = 60\nview_report_interval = 1\n", tls: true)
            defer { origin.scratch.remove() }
            let scratch = origin.scratch.path
            // The fleet's CA file starts as another CA's.
            let stranger = try TestCertificates(directory: scratch, name: "other-ca")
            try FileManager.default.removeItem(atPath: scratch + "/fleet-ca.pem")
            try FileManager.default.copyItem(atPath: stranger.ca, toPath: scratch + "/fleet-ca.pem")
            let edgeHost = LoopbackAddress.next()
            try origin.addReportingEdge(host: edgeHost)
            let originServer = try await origin.start()
            let edge = try ServerProcess(EdgeNodeBinary.path, ["serve", "--config", origin.config, "--node", "edge-1", "--threads", "1"],
                                         host: edgeHost, port: 8080)

            // A report of the last minute, signed by the edge's key, waits in its spool.
            let now = Int64(Date().timeIntervalSince1970)
            let period = (now / 60 - 1) * 60
            let session = try #require(SessionKey(hex: "0123456789abcdef0123456789abcdef"))
            let report = DeliveryReport(node: "edge-1", period: period, periodSeconds: 60,
                                        contents: ["song-1": .init(bytes: 4_000, untrackedViews: 0, sessions: [session: 40])])
            let signer = try KeyStore.loadSigner(path: scratch + "/edge-1.key")
            let note = try signer.sign(text: DeliveryReport.signedText(node: "edge-1", period: period, reportText: report.text))
            let submission = try JSONSerialization.data(withJSONObject: ["report": report.text, "signature": note.rendered], options: [.sortedKeys])
            let spooled = scratch + "/cache/.views/report-\(report.periodLabel).json"
            try AtomicFile.write(submission, to: spooled, mode: 0o600, replace: true)

            // Against another CA the edge keeps the report and says why; so does the CLI.
            #expect(Self.eventually(20) { edge.log.contains("failed the TLS check") }, "\(edge.log.suffix(1_500))")
            #expect(edge.log.contains("not trusted"))
            #expect(FileManager.default.fileExists(atPath: spooled), "kept for the next try")
            let refused = try EdgeNodeBinary.run(["royalty", "close", "--period", "2020-01", "--config", origin.config, "--token-file", origin.tokenFile])
            #expect(refused.status == 1 && refused.stderr.contains("TLS handshake failed") && refused.stderr.contains("not trusted"),
                    "\(refused.status) \(refused.stderr)")

            // The right CA, taken by a reload: the report is delivered over HTTPS, the CLI gets through.
            try FileManager.default.removeItem(atPath: scratch + "/fleet-ca.pem")
            try FileManager.default.copyItem(atPath: try #require(origin.certificates).ca, toPath: scratch + "/fleet-ca.pem")
            let reloaded = try EdgeNodeBinary.run(["reload", "--config", origin.config, "--node", "edge-1"])
            #expect(reloaded.status == 0, "\(reloaded.stdout) \(reloaded.stderr)")
            #expect(Self.eventually(20) { !FileManager.default.fileExists(atPath: spooled) && edge.log.contains("delivery report delivered") },
                    "\(edge.log.suffix(1_500))")
            let month = try #require(Month(containing: period))
            let views = try Views.decoder().decode(Views.MonthViews.self, from: try await origin.client(token: try origin.token()).get("/v1/views/\(month)").body)
            #expect(views.reports == 1 && views.contents.map(\.content) == ["song-1"], "\(views)")
            let accepted = try EdgeNodeBinary.run(["royalty", "close", "--period", "2020-01", "--config", origin.config, "--token-file", origin.tokenFile])
            #expect(!accepted.stderr.contains("TLS"), "\(accepted.status) \(accepted.stdout) \(accepted.stderr)")
            #expect(accepted.status == 0, "\(accepted.stdout) \(accepted.stderr)")
            #expect(edge.stop() == 0)
            #expect(originServer.stop() == 0)
        }
    }

    /// The serial number of the certificate a new TLS connection to `host:port` gets, trusting `ca`.
    static func serial(host: String, port: Int, ca: String) throws -> Int? {
        let script = """
            import socket, ssl, sys
            context = ssl.create_default_context(cafile=sys.argv[3])
            with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20) as raw:
                with context.wrap_socket(raw, server_hostname=sys.argv[1]) as tls:
                    print(int(tls.getpeercert()["serialNumber"], 16))
            """
        let result = try ProcessRunner.run("python3", ["-c", script, host, "\(port)", ca], timeout: 60)
        return Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func ledgerVerifyOverHTTPSAndCertificateRotation() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let origin = try ControlProcessTests.Origin(tls: true)
            defer { origin.scratch.remove() }
            let certificates = try #require(origin.certificates)
            let server = try await origin.start()
            let admin = try origin.client(token: try origin.token())
            for index in 0..<3 {
                #expect(try await admin.post("/v1/transfers", json: ControlProcessTests.transfer(key: "t\(index)", amount: 100)).status == 201)
            }
            let verify = ["ledger", "verify", "--url", origin.url, "--token-file", origin.tokenFile, "--pubkey", origin.pubkey]
            // The checkpoint (every second) covers the three entries.
            var verified = try EdgeNodeBinary.run(verify + ["--tls-ca", certificates.ca])
            for _ in 0..<50 where !verified.stdout.contains("ok: 3 entries") {
                usleep(200_000)
                verified = try EdgeNodeBinary.run(verify + ["--tls-ca", certificates.ca])
            }
            #expect(verified.status == 0 && verified.stdout.contains("ok: 3 entries"), "\(verified.stdout) \(verified.stderr)")
            // The system's roots do not know the test's CA; plain HTTP gets no answer from the TLS port.
            let untrusted = try EdgeNodeBinary.run(verify)
            #expect(untrusted.status == 1 && untrusted.stderr.contains("not trusted"), "\(untrusted.status) \(untrusted.stderr)")
            let plain = try EdgeNodeBinary.run(["ledger", "verify", "--url", "http://\(origin.host):9090", "--token-file", origin.tokenFile,
                                                "--pubkey", origin.pubkey])
            #expect(plain.status == 1 && !plain.stdout.contains("ok:"), "\(plain.stdout) \(plain.stderr)")

            // Rotated files (same paths) are taken by SIGHUP for new connections.
            #expect(try Self.serial(host: origin.host, port: 9090, ca: certificates.ca) == 1)
            let next = try certificates.leaf("origin-1-next", ip: origin.host, serial: 2)
            let (certificate, key) = (origin.scratch.path + "/origin-1.pem", origin.scratch.path + "/origin-1.key")
            for (from, to) in [(next.certificate, certificate), (next.key, key)] {
                try FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: from, toPath: to)
            }
            chmod(key, 0o600)
            kill(server.pid, SIGHUP)
            #expect(Self.eventually(20) { (try? Self.serial(host: origin.host, port: 9090, ca: certificates.ca)) == 2 })
            // A broken certificate is refused by the reload; the one in force is kept.
            try "not a certificate\n".write(toFile: certificate, atomically: true, encoding: .utf8)
            kill(server.pid, SIGHUP)
            #expect(Self.eventually(20) { server.log.contains("not a PEM certificate chain") }, "\(server.log.suffix(1_500))")
            #expect(try Self.serial(host: origin.host, port: 9090, ca: certificates.ca) == 2)
            #expect(try EdgeNodeBinary.run(verify + ["--tls-ca", certificates.ca]).status == 0)
            #expect(server.stop() == 0)
        }
    }
}
