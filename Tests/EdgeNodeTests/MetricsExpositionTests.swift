import EdgeNode
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What real nodes export at `/metrics` after serving hits, misses, redirects, endpoints and control API calls:
/// `promtool check metrics` finds nothing to complain about, every family has help text from `MetricCatalog`, and
/// the series the issue names are there with the counts the requests made.
@Suite struct MetricsExpositionTests {
    /// `PROMTOOL`, or the copy `scripts/fetch-promtool.sh` (run by make test) puts in `out/tools`.
    static var promtool: String {
        if let path = ProcessInfo.processInfo.environment["PROMTOOL"] { return path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
            + "/out/tools/promtool"
    }

    static func metrics(_ host: String, _ port: Int) throws -> String {
        String(decoding: try RawHTTPConnection.get(host, port, "/metrics").body, as: UTF8.self)
    }

    /// The value of one series (its name and labels exactly as printed), or nil.
    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    @Test func everyNodeExportsDocumentedMetricsThatPromtoolAccepts() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            try #require(FileManager.default.isExecutableFile(atPath: Self.promtool),
                         "promtool is missing at \(Self.promtool): scripts/fetch-promtool.sh puts it there (make test runs it)")
            let fixture = try await PublishedContent.shared.fixture()
            let directory = try TemporaryDirectory("metrics")
            defer { directory.remove() }
            let keyring = directory.path + "/gossip.keyring"
            let generated = try EdgeNodeBinary.run(["gossip-key", "generate", "--keyring", keyring])
            try #require(generated.status == 0, "\(generated.stderr)")
            let (origin, edge) = (LoopbackAddress.next(), LoopbackAddress.next())
            let viewers = "127.0.77"
            let signingKey = String(fixture.pubkey.dropLast(4)) + ".key"
            let text = """
                [fleet]
                name = "metrics"
                gossip_keyring = "\(keyring)"

                [routing]
                recovery_seconds = 0

                [[zone]]
                name = "near-edge"
                networks = ["\(viewers).0/24"]
                latitude = 10
                longitude = 10

                [[node]]
                name = "origin-1"
                role = "origin"
                region = "r"
                latitude = 0
                longitude = 0
                http = "\(origin):18500"
                gossip = "\(origin):17500"
                control = "\(origin):19500"
                content = "\(fixture.root)"
                ledger_db = "\(directory.path)/ledger/ledger.sqlite"
                signing_key = "\(signingKey)"
                origin_key = "\(fixture.pubkey)"
                threads = 1

                [[node]]
                name = "edge-1"
                role = "edge"
                region = "r"
                latitude = 10
                longitude = 10
                http = "\(edge):18500"
                gossip = "\(edge):17500"
                content = "\(directory.path)/cache"
                parents = ["origin-1"]
                origin_key = "\(fixture.pubkey)"
                prefetch = 0
                threads = 1
                """
            let config = directory.path + "/nodes.conf"
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            let originProcess = try ServerProcess(EdgeNodeBinary.path, ["serve", "--config", config, "--node", "origin-1"], host: origin, port: 18_500)
            let edgeProcess = try ServerProcess(EdgeNodeBinary.path, ["serve", "--config", config, "--node", "edge-1"], host: edge, port: 18_500)
            #expect(EdgeFleet.eventually(20) {
                [origin, edge].allSatisfy { (try? Self.value(Self.metrics($0, 18_500), #"edgenode_gossip_members{status="alive"}"#)) == 2 }
            }, "both nodes alive in both views")

            // A redirect at the origin for a viewer near the edge, a miss then a hit at the edge, endpoints, the control API.
            let redirected = try RawHTTPConnection.get(origin, 18_500, "/content-ts/master.m3u8", source: "\(viewers).5")
            #expect(redirected.status == 302, "\(redirected.status) \(String(decoding: (try? RawHTTPConnection.get(origin, 18_500, "/route/content-ts", source: "\(viewers).5"))?.body ?? [], as: UTF8.self))")
            let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: fixture.root + "/content-ts/360p")
                .filter { $0.hasPrefix("seg_") }.sorted().first)
            for _ in 0..<2 { #expect(try RawHTTPConnection.get(edge, 18_500, "/content-ts/360p/" + segment).status == 200) }
            #expect(try RawHTTPConnection.get(edge, 18_500, "/content-ts/360p/nope.ts").status == 404)
            #expect(try RawHTTPConnection.get(origin, 19_500, "/v1/export").status == 401)

            for (name, host) in [("origin-1", origin), ("edge-1", edge)] {
                let exposition = try Self.metrics(host, 18_500)
                let checked = try ProcessRunner.run(Self.promtool, ["check", "metrics"], input: Data(exposition.utf8), timeout: 60)
                #expect(checked.status == 0 && checked.stdout.isEmpty && checked.stderr.isEmpty,
                        "\(name): promtool: \(checked.status) \(checked.stdout) \(checked.stderr)")
                let families = exposition.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) }
                let helped = Set(exposition.split(separator: "\n").filter { $0.hasPrefix("# HELP ") }.map { String($0.split(separator: " ")[2]) })
                for family in families {
                    #expect(MetricCatalog.help(family) != nil && helped.contains(family), "\(name): \(family) has no catalogued help")
                }
                for required in ["edgenode_build_info", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                                 "process_start_time_seconds", "edgenode_http_requests_total", "edgenode_http_first_byte_seconds",
                                 "edgenode_http_response_seconds", "edgenode_http_response_bytes_total", "edgenode_http_open_connections",
                                 "edgenode_gossip_members", "edgenode_gossip_packets_sent_total", "edgenode_emergency_mode",
                                 "edgenode_config_last_reload_successful"] {
                    #expect(families.contains(required), "\(name): \(required) missing")
                }
            }
            let edgeText = try Self.metrics(edge, 18_500)
            #expect(Self.value(edgeText, #"edgenode_http_requests_total{kind="segment",status="2xx"}"#) == 2)
            #expect(Self.value(edgeText, #"edgenode_http_requests_total{kind="segment",status="4xx"}"#) == 1)
            #expect(Self.value(edgeText, #"edgenode_http_first_byte_seconds_count{answer="miss"}"#) == 1)
            #expect(Self.value(edgeText, #"edgenode_http_response_seconds_count{answer="hit"}"#) == 1)
            #expect(Self.value(edgeText, #"edgenode_parent_fetches_total{parent="origin-1",outcome="ok"}"#).map { $0 >= 2 } == true,
                    "the manifest and the segment")
            #expect(Self.value(edgeText, "edgenode_cache_capacity_bytes") == Double(10 << 30))
            let originText = try Self.metrics(origin, 18_500)
            #expect(Self.value(originText, #"edgenode_http_first_byte_seconds_count{answer="redirect"}"#) == 1)
            #expect(originText.contains(#"edgenode_routing_decisions_total{result="redirect",reason="#))
            #expect(Self.value(originText, #"edgenode_http_requests_total{kind="segment",status="2xx"}"#) == 1, "the edge's fill")
            #expect(Self.value(originText, #"edgenode_control_requests_total{method="GET",route="/v1/export",status="4xx"}"#) == 1,
                    "the refused control API call is counted under its route")
            #expect(Self.value(originText, "edgenode_ledger_integrity_ok") == 1)
            #expect(originText.contains("edgenode_ledger_entries "))
            #expect(originProcess.isRunning && edgeProcess.isRunning)
        }
    }
}
