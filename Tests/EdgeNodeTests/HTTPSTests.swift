import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// HTTPS on real nodes, with certificates made by openssl and Python's ssl module as the client: TLS 1.2 and 1.3 with
/// ALPN http/1.1, the same bytes as over HTTP for playlists, ranges, whole segments and streamed misses; a client
/// trusting another CA is refused; certificates rotated by a reload while a connection stays open; bad certificates
/// refused at start and at reload.
@Suite struct HTTPSTests {
    /// Fetches each path over one TLS connection trusting `ca` (JSON: per path the status, the body's SHA-256 and
    /// length, the TLS version and ALPN protocol), within the TLS versions given.
    static let fetch = """
        import hashlib, http.client, json, ssl, sys
        host, port, ca, version = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
        context = ssl.create_default_context(cafile=ca)
        context.set_alpn_protocols(["http/1.1"])
        if version != "any":
            context.minimum_version = context.maximum_version = getattr(ssl.TLSVersion, version)
        connection = http.client.HTTPSConnection(host, port, context=context, timeout=20)
        out = []
        for item in sys.argv[5:]:
            path, _, byte_range = item.partition("@")
            connection.request("GET", path, headers={"Range": "bytes=" + byte_range} if byte_range else {})
            response = connection.getresponse()
            body = response.read()
            out.append({"status": response.status, "sha256": hashlib.sha256(body).hexdigest(), "length": len(body),
                        "version": connection.sock.version(), "alpn": connection.sock.selected_alpn_protocol(),
                        "cache": response.getheader("X-Cache")})
        print(json.dumps(out))
        """

    struct Fetched: Decodable {
        let status: Int
        let sha256: String
        let length: Int
        let version: String
        let alpn: String?
        let cache: String?
    }

    static func get(_ host: String, _ port: Int, ca: String, version: String = "any", _ paths: [String]) throws -> [Fetched] {
        let result = try ProcessRunner.run("python3", ["-c", fetch, host, "\(port)", ca, version] + paths, timeout: 120)
        guard result.status == 0 else { throw FixtureError(message: "python TLS client: \(result.stderr)") }
        return try JSONDecoder().decode([Fetched].self, from: Data(result.stdout.utf8))
    }

    static func sha256(_ path: String, range: Range<Int>? = nil) throws -> String {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        if let range { bytes = bytes.subdata(in: range) }
        let digest = try ProcessRunner.run("sha256sum", [], input: bytes, timeout: 60)
        return String(digest.stdout.prefix(64))
    }

    @Test func originAndEdgeServeTheSameBytesOverTLS12And13() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
            let certificates = try TestCertificates(directory: fleet.directory.path)
            let edgeHost = fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0"])
            let (certificate, key) = try certificates.leaf("edge-1", ip: edgeHost, serial: 1)
            try fleet.rewriteCache("edge-1", parents: ["origin-1"], extra: [
                "prefetch": "0", "https": "\"\(edgeHost):18443\"", "tls_cert": "\"\(certificate)\"", "tls_key": "\"\(key)\""])
            try fleet.startOrigin()
            let edge = try fleet.start("edge-1")
            let segments = try fleet.segments("ts")
            let root = fleet.fixture.root
            // A miss streamed while it fills, then hits: a whole segment, a 64 KiB range, the playlist.
            let paths = ["/" + segments[1], "/" + segments[1], "/" + segments[2] + "@65536-131071", "/content-ts/360p/index.m3u8"]
            for version in ["TLSv1_2", "TLSv1_3"] {
                let fetched = try Self.get(edgeHost, 18_443, ca: certificates.ca, version: version, paths)
                #expect(fetched.map(\.status) == [200, 200, 206, 200])
                #expect(fetched[0].sha256 == (try Self.sha256(root + "/" + segments[1])) && fetched[1].sha256 == fetched[0].sha256)
                #expect(fetched[2].sha256 == (try Self.sha256(root + "/" + segments[2], range: 65_536..<131_072)) && fetched[2].length == 65_536)
                #expect(fetched[3].sha256 == (try Self.sha256(root + "/content-ts/360p/index.m3u8")))
                #expect(fetched.allSatisfy { $0.version == version.replacingOccurrences(of: "_", with: ".") && $0.alpn == "http/1.1" },
                        "\(fetched.map { "\($0.version) \($0.alpn ?? "-")" })")
            }
            #expect(try Self.get(edgeHost, 18_443, ca: certificates.ca, ["/" + segments[3]]).first?.cache == "MISS", "a miss streamed over TLS")
            // Plain HTTP keeps working beside it.
            #expect(try RawHTTPConnection.get(edgeHost, EdgeFleet.port, "/" + segments[1]).status == 200)
            // A client that trusts another CA refuses the node's certificate.
            let stranger = try TestCertificates(directory: fleet.directory.path, name: "other-ca")
            let refused = try ProcessRunner.run("python3", ["-c", Self.fetch, edgeHost, "18443", stranger.ca, "any", "/content-ts/master.m3u8"], timeout: 60)
            #expect(refused.status != 0 && refused.stderr.contains("CERTIFICATE_VERIFY_FAILED"), "\(refused.stderr.suffix(300))")
            #expect(edge.isRunning)
        }
    }

    /// A connection opened before the rotation keeps working; a new one gets the new certificate; a bad file is
    /// refused by the reload and the certificate in force kept.
    @Test func certificatesRotateOnReloadWhileConnectionsStayOpen() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
            let certificates = try TestCertificates(directory: fleet.directory.path)
            let host = fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0"])
            let (certificate, key) = try certificates.leaf("edge-1", ip: host, serial: 1001)
            try fleet.rewriteCache("edge-1", parents: ["origin-1"], extra: [
                "prefetch": "0", "https": "\"\(host):18443\"", "tls_cert": "\"\(certificate)\"", "tls_key": "\"\(key)\""])
            try fleet.startOrigin()
            let edge = try fleet.start("edge-1")
            let marker = fleet.directory.path + "/rotated"
            let script = """
                import http.client, json, os, ssl, sys, time
                host, port, ca, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
                def connect():
                    connection = http.client.HTTPSConnection(host, port, context=ssl.create_default_context(cafile=ca), timeout=20)
                    connection.request("GET", "/content-ts/master.m3u8"); response = connection.getresponse(); response.read()
                    return connection, response.status, int(connection.sock.getpeercert()["serialNumber"], 16)
                old, first, old_serial = connect()
                print(json.dumps({"ready": True}), flush=True)
                deadline = time.time() + 60
                while not os.path.exists(marker) and time.time() < deadline: time.sleep(0.05)
                old.request("GET", "/content-ts/master.m3u8"); again = old.getresponse(); again.read()
                new, second, new_serial = connect()
                print(json.dumps({"first": first, "old_serial": old_serial, "again": again.status,
                                  "old_still": int(old.sock.getpeercert()["serialNumber"], 16), "second": second, "new_serial": new_serial}))
                """
            let client = try ProcessRunner.start("python3", ["-c", script, host, "18443", certificates.ca, marker])
            #expect(EdgeFleet.eventually(20) { FileManager.default.fileExists(atPath: certificate) && edge.isRunning })
            // The first connection is open once the client has fetched over it; then the files are replaced and reloaded.
            usleep(1_500_000)
            let rotated = try certificates.leaf("edge-1-next", ip: host, serial: 2002)
            try FileManager.default.removeItem(atPath: certificate)
            try FileManager.default.copyItem(atPath: rotated.certificate, toPath: certificate)
            try FileManager.default.removeItem(atPath: key)
            try FileManager.default.copyItem(atPath: rotated.key, toPath: key)
            chmod(key, 0o600)
            kill(edge.pid, SIGHUP)
            #expect(EdgeFleet.eventually(10) { (try? EdgeFleet.metric(edge, #"edgenode_config_reloads_total{outcome="success"}"#)) == 1 })
            #expect(FileManager.default.createFile(atPath: marker, contents: Data()))
            let finished = client.wait(timeout: 60)
            let lines = finished.stdout.split(separator: "\n")
            let result = try #require(lines.last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Int] },
                                      "\(finished.stdout) \(finished.stderr)")
            #expect(result["first"] == 200 && result["old_serial"] == 1001)
            #expect(result["again"] == 200 && result["old_still"] == 1001, "the open connection kept its session")
            #expect(result["second"] == 200 && result["new_serial"] == 2002, "a new connection gets the rotated certificate")

            // A broken certificate file is refused by the reload; new connections keep getting the one in force.
            try "not a certificate\n".write(toFile: certificate, atomically: true, encoding: .utf8)
            kill(edge.pid, SIGHUP)
            #expect(EdgeFleet.eventually(10) { (try? EdgeFleet.metric(edge, #"edgenode_config_reloads_total{outcome="failure"}"#)) == 1 })
            #expect(EdgeFleet.eventually(5) { edge.log.contains("not a PEM certificate chain") })
            #expect(try Self.get(host, 18_443, ca: certificates.ca, ["/content-ts/master.m3u8"]).first?.status == 200)
        }
    }

    @Test func aKeyOthersCanReadOrAKeyOfAnotherCertificateStopsTheStart() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
            let certificates = try TestCertificates(directory: fleet.directory.path)
            let host = fleet.addCache("edge-1", parents: ["origin-1"])
            let (certificate, key) = try certificates.leaf("edge-1", ip: host, serial: 7)
            let other = try certificates.leaf("other", ip: host, serial: 8)
            for (keyPath, mode, says) in [(key, 0o644, "chmod 600"), (other.key, 0o600, "does the key belong to the certificate")] {
                chmod(keyPath, mode_t(mode))
                try fleet.rewriteCache("edge-1", parents: ["origin-1"], extra: [
                    "https": "\"\(host):18443\"", "tls_cert": "\"\(certificate)\"", "tls_key": "\"\(keyPath)\""])
                let started = try ProcessRunner.run(EdgeNodeBinary.path, ["serve", "--config", fleet.configPath, "--node", "edge-1"], timeout: 30)
                #expect(started.status == 1 && started.stderr.contains(says), "\(started.status) \(started.stderr)")
            }
        }
    }

    /// With `[fleet] tls_ca`, an edge fills from its parent's `https` address and verifies the parent's certificate:
    /// against the wrong CA the fill is refused (and the parent marked failed); a reload with the right CA fills.
    @Test func fillsGoOverHTTPSVerifiedAgainstTheFleetCA() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
            let certificates = try TestCertificates(directory: fleet.directory.path)
            let stranger = try TestCertificates(directory: fleet.directory.path, name: "other-ca")
            let (certificate, key) = try certificates.leaf("origin-1", ip: fleet.originHost, serial: 11)
            fleet.header = "[fleet]\ntls_ca = \"\(stranger.ca)\"\n\n"
            try fleet.rewriteOrigin(extra: ["https": "\"\(fleet.originHost):18443\"", "tls_cert": "\"\(certificate)\"", "tls_key": "\"\(key)\""])
            fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0"])
            try fleet.startOrigin()
            let edge = try fleet.start("edge-1")
            let segment = try fleet.segments("ts")[0]
            let refused = try RawHTTPConnection.get(edge.host, edge.port, "/" + segment)
            #expect(refused.status == 502, "the origin's certificate does not chain to the configured CA: \(refused.status)")
            #expect(try EdgeFleet.metric(edge, #"edgenode_parent_fetches_total{parent="origin-1",outcome="ok"}"#) == 0)
            #expect(edge.log.contains("CERTIFICATE_VERIFY_FAILED") || edge.log.contains("certificate verify failed"), "\(edge.log.suffix(1500))")

            fleet.header = "[fleet]\ntls_ca = \"\(certificates.ca)\"\n\n"
            try fleet.rewrite()
            let reloaded = try ProcessRunner.run(EdgeNodeBinary.path, ["reload", "--config", fleet.configPath, "--node", "edge-1"], timeout: 30)
            #expect(reloaded.status == 0 && reloaded.stdout.contains("tls_ca"), "\(reloaded.stdout) \(reloaded.stderr)")
            let filled = try RawHTTPConnection.get(edge.host, edge.port, "/" + segment)
            let original = try fleet.originBytes(segment)
            #expect(filled.status == 200 && filled.body == original)
            // A fill is counted when the parent's response ends, which can be after the viewer has the last byte.
            #expect(EdgeFleet.eventually(10) {
                (try? EdgeFleet.metric(edge, #"edgenode_parent_fetches_total{parent="origin-1",outcome="ok"}"#)) ?? 0 >= 2
            }, "the manifest and the segment")
        }
    }

    /// A client trickling a genuine ClientHello a byte at a time cannot hold a TLS connection past the idle timeout,
    /// and the node goes on serving others.
    @Test func aTricklingHandshakeIsCutAtTheIdleTimeout() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let fixture = try await PublishedContent.shared.fixture()
            let directory = try TemporaryDirectory("tls-trickle")
            defer { directory.remove() }
            let host = LoopbackAddress.next()
            let certificates = try TestCertificates(directory: directory.path)
            let (certificate, key) = try certificates.leaf("node", ip: host, serial: 3)
            let server = try ServerProcess(EdgeNodeBinary.path, ["serve", "--root", fixture.root, "--listen", "\(host):18080",
                                                                 "--https", "\(host):18443", "--tls-cert", certificate, "--tls-key", key,
                                                                 "--idle-timeout", "2", "--head-timeout", "2"], host: host, port: 18_080)
            let held = try TLSTrickle.heldSeconds(host: host, port: 18_443)
            #expect(held >= 1.5 && held < 6, "the trickle was cut after \(held) s (idle timeout 2 s)")
            #expect(try Self.get(host, 18_443, ca: certificates.ca, ["/content-ts/master.m3u8"]).first?.status == 200, "others are served")
            #expect(server.isRunning)
        }
    }
}
