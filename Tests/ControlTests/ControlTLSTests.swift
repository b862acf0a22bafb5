import Control
import Foundation
import NodeTLS
import Testing
import TestSupport

/// The control API over TLS (an origin with `tls_cert`): HTTPS only, TLS 1.2 and 1.3 with ALPN http/1.1, clients
/// that trust another CA or speak plain HTTP refused, a certificate replaced for new connections, and a client
/// trickling its handshake cut at the idle timeout.
@Suite struct ControlTLSTests {
    /// One request over TLS from Python's ssl module within one TLS version: the status, the version, the ALPN
    /// protocol and the certificate's serial number as JSON.
    static let fetch = """
        import http.client, json, ssl, sys
        host, port, ca, version, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
        context = ssl.create_default_context(cafile=ca)
        context.set_alpn_protocols(["http/1.1"])
        if version != "any":
            context.minimum_version = context.maximum_version = getattr(ssl.TLSVersion, version)
        connection = http.client.HTTPSConnection(host, port, context=context, timeout=20)
        connection.request("GET", "/v1/integrity", headers={"Authorization": "Bearer " + token})
        response = connection.getresponse(); response.read()
        print(json.dumps({"status": response.status, "version": connection.sock.version(),
                          "alpn": connection.sock.selected_alpn_protocol(),
                          "serial": int(connection.sock.getpeercert()["serialNumber"], 16)}))
        """

    struct Fetched: Decodable {
        let status: Int
        let version: String
        let alpn: String?
        let serial: Int
    }

    static func fetch(_ harness: ControlHarness, ca: String, version: String = "any") throws -> Fetched {
        let result = try ProcessRunner.run("python3", ["-c", fetch, harness.host, "\(harness.port)", ca, version, harness.admin], timeout: 60)
        guard result.status == 0 else { throw FixtureError(message: "python TLS client: \(result.stderr)") }
        return try JSONDecoder().decode(Fetched.self, from: Data(result.stdout.utf8))
    }

    @Test func urlsNameTheSchemeHostAndPort() throws {
        let plain = try ControlClient(url: "http://127.0.0.1:9090/", token: nil)
        #expect(plain.host == "127.0.0.1" && plain.port == 9090 && plain.tls == nil)
        let secure = try ControlClient(url: "https://[::1]:8443", token: "t")
        #expect(secure.host == "::1" && secure.port == 8443 && secure.tls != nil)
        for bad in ["ftp://a:1", "https://:9090", "https://a:0", "https://a:70000", "https://a:9090/v1", "127.0.0.1:9090", "https://a"] {
            #expect(throws: ControlClient.ClientError.self, "\(bad)") { try ControlClient(url: bad, token: nil) }
        }
        // A missing CA file is named.
        #expect { try ControlClient(url: "https://a:1", token: nil, certificateAuthority: "/nonexistent/ca.pem") } throws: { error in
            "\(error)".contains("/nonexistent/ca.pem: No such file")
        }
        #expect(ClientTLS.serverHostname(for: "127.0.0.1") == nil && ClientTLS.serverHostname(for: "::1") == nil)
        #expect(ClientTLS.serverHostname(for: "origin.example.net") == "origin.example.net")
    }

    @Test func theAPISpeaksOnlyHTTPSAndRefusesClientsOfAnotherCA() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try await checkHTTPSOnly() }
    }

    private func checkHTTPSOnly() async throws {
        let directory = try TemporaryDirectory("control-tls")
        defer { directory.remove() }
        let host = LoopbackAddress.next()
        let certificates = try TestCertificates(directory: directory.path)
        let (certificate, key) = try certificates.leaf("origin", ip: host, serial: 41)
        let server = try ServerTLS(certificate: certificate, key: key)
        let harness = try await ControlHarness(host: host, tls: (server, try ClientTLS(certificateAuthority: certificates.ca)))
        let integrity = try await harness.client(harness.admin).get("/v1/integrity")
        #expect(integrity.status == 200 && ControlHarness.json(integrity)["intact"] as? Bool == true)
        for version in ["TLSv1_2", "TLSv1_3"] {
            let fetched = try Self.fetch(harness, ca: certificates.ca, version: version)
            #expect(fetched.status == 200 && fetched.version == version.replacingOccurrences(of: "_", with: ".") && fetched.alpn == "http/1.1",
                    "\(fetched)")
        }

        // Plain HTTP to the TLS port gets no answer.
        await #expect(throws: (any Error).self) {
            try await ControlClient(host: host, port: harness.port, token: harness.admin).get("/v1/integrity")
        }
        // A client trusting another CA refuses the certificate, and says so in words.
        let stranger = try TestCertificates(directory: directory.path, name: "other-ca")
        let wary = ControlClient(host: host, port: harness.port, token: harness.admin, tls: try ClientTLS(certificateAuthority: stranger.ca))
        do {
            _ = try await wary.get("/v1/integrity")
            Issue.record("a certificate of another CA was accepted")
        } catch ControlClient.ClientError.tls(let reason) {
            #expect(reason.contains("not trusted"), "\(reason)")
        }
        // A certificate for another address is refused too.
        let elsewhere = try certificates.leaf("elsewhere", ip: "127.9.9.9", serial: 42)
        try server.reload(certificate: elsewhere.certificate, key: elsewhere.key)
        await #expect(throws: ControlClient.ClientError.self) { try await harness.client(harness.admin).get("/v1/integrity") }

        // A reload's certificate reaches new connections.
        let rotated = try certificates.leaf("origin-next", ip: host, serial: 43)
        try server.reload(certificate: rotated.certificate, key: rotated.key)
        #expect(try Self.fetch(harness, ca: certificates.ca).serial == 43)
        #expect(try await harness.client(harness.admin).get("/v1/integrity").status == 200)
        await harness.stop()
    }

    /// A client sending a genuine ClientHello a byte at a time cannot hold a connection past the idle timeout (2 s
    /// here); others are served meanwhile and after.
    @Test func aTricklingHandshakeIsCutAtTheIdleTimeout() async throws {
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try await checkTrickle() }
    }

    private func checkTrickle() async throws {
        let directory = try TemporaryDirectory("control-tls-trickle")
        defer { directory.remove() }
        let host = LoopbackAddress.next()
        let certificates = try TestCertificates(directory: directory.path)
        let (certificate, key) = try certificates.leaf("origin", ip: host, serial: 5)
        let harness = try await ControlHarness(idleTimeout: .seconds(2), host: host,
                                               tls: (try ServerTLS(certificate: certificate, key: key), try ClientTLS(certificateAuthority: certificates.ca)))
        let trickle = Task(executorPreference: ThreadPerJobExecutor.shared) { try TLSTrickle.heldSeconds(host: host, port: harness.port) }
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await harness.client(harness.admin).get("/v1/integrity").status == 200, "served while the trickle goes on")
        let held = try await trickle.value
        #expect(held >= 1.5 && held < 6, "the trickle was cut after \(held) s (idle timeout 2 s)")
        #expect(try await harness.client(harness.admin).get("/v1/integrity").status == 200)
        await harness.stop()
    }
}
