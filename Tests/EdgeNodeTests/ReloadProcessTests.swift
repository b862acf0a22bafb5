import EdgeNode
import Foundation
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP and `edgenode reload` on real processes: what changed is in force without a restart, an invalid file is
/// refused with the configuration in force kept, no request fails while the node reloads again and again, and the
/// systemd notify protocol reaches a socket the test owns.
@Suite struct ReloadProcessTests {
    static func reload(_ fleet: EdgeFleet, _ node: String) throws -> ProcessOutput {
        try ProcessRunner.run(EdgeNodeBinary.path, ["reload", "--config", fleet.configPath, "--node", node], timeout: 30)
    }

    /// origin-1 and origin-2 serving the same content, and edge-1 (logging at info) filling from origin-1; all running.
    static func twoOriginsAndAnEdge() async throws -> (fleet: EdgeFleet, second: ServerProcess, edge: ServerProcess) {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        fleet.addOrigin("origin-2")
        fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0"])
        try fleet.startOrigin()
        return (fleet, try fleet.start("origin-2"), try fleet.start("edge-1", logLevel: nil))
    }

    /// The cache's objects on disk, in bytes.
    static func cachedBytes(_ fleet: EdgeFleet, _ node: String) -> Int { fleet.cachedObjects(node).values.reduce(0, +) }

    @Test func parentsCacheSizeAndLogLevelTakeEffectWithoutARestart() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let (fleet, second, edge) = try await Self.twoOriginsAndAnEdge()
            let segments = try fleet.segments("ts")
            for segment in segments.prefix(3) { #expect(try RawHTTPConnection.get(edge.host, edge.port, "/" + segment).status == 200) }
            #expect(try EdgeFleet.metric(edge, #"edgenode_upstream_requests_total{parent="origin-1",kind="object"}"#) == 3)
            #expect(!edge.log.contains("debug"), "info by default")

            try fleet.rewriteCache("edge-1", parents: ["origin-2"], extra: ["prefetch": "0", "cache_size": "\"1MiB\"", "log_level": "\"debug\"",
                                                                             "max_connections": "500"])
            let reloaded = try Self.reload(fleet, "edge-1")
            #expect(reloaded.status == 0, "\(reloaded.stderr)")
            #expect(reloaded.stdout.contains("applied parents, cache_size, log_level"), "\(reloaded.stdout)")
            #expect(reloaded.stderr.contains("kept until node edge-1 restarts: max_connections"), "\(reloaded.stderr)")
            #expect(Self.cachedBytes(fleet, "edge-1") <= 1 << 20, "the smaller budget evicted at once")

            // origin-1 is gone: the next miss is filled from origin-2, which the reload made the parent.
            fleet.stopOrigin()
            let next = try RawHTTPConnection.get(edge.host, edge.port, "/" + segments[3])
            let expected = try fleet.originBytes(segments[3])
            #expect(next.status == 200 && next.body == expected)
            #expect(try EdgeFleet.metric(edge, #"edgenode_upstream_requests_total{parent="origin-2",kind="object"}"#) >= 1)
            #expect(try EdgeFleet.metric(edge, #"edgenode_config_reloads_total{outcome="success"}"#) == 1)
            #expect(!edge.log.contains("re-reading the configuration"), "a debug line, not logged at info")
            let again = try Self.reload(fleet, "edge-1")
            #expect(again.status == 0 && again.stdout.contains("nothing changed"), "\(again.stdout)")
            #expect(EdgeFleet.eventually { edge.log.contains("debug edge-1: re-reading the configuration") },
                    "log_level debug took effect: \(edge.log.suffix(2000))")
            #expect(edge.isRunning && second.isRunning)
        }
    }

    @Test func anInvalidFileIsRefusedAndTheNodeKeepsServingAsBefore() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
            fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0"])
            try fleet.startOrigin()
            let edge = try fleet.start("edge-1")
            let segments = try fleet.segments("ts")
            #expect(try RawHTTPConnection.get(edge.host, edge.port, "/" + segments[0]).status == 200)
            let good = try String(contentsOfFile: fleet.configPath, encoding: .utf8)
            for (text, says) in [(good.replacingOccurrences(of: "parents = [\"origin-1\"]", with: "parents = [\"nobody\"]"), "unknown parent \"nobody\""),
                                 (good + "\n[[node]\n", "expected ']'"),
                                 (good.replacingOccurrences(of: "name = \"edge-1\"", with: "name = \"edge-2\""), "no node named \"edge-1\"")] {
                try text.write(toFile: fleet.configPath, atomically: true, encoding: .utf8)
                // The command checks the file first and does not send what the node would refuse.
                let refused = try Self.reload(fleet, "edge-1")
                #expect(refused.status != 0 && refused.stderr.contains(says), "\(refused.status) \(refused.stderr)")
                // Signalled anyway, the node refuses it itself, and keeps the configuration in force.
                let failures = try EdgeFleet.metric(edge, #"edgenode_config_reloads_total{outcome="failure"}"#)
                kill(edge.pid, SIGHUP)
                #expect(EdgeFleet.eventually { (try? EdgeFleet.metric(edge, #"edgenode_config_reloads_total{outcome="failure"}"#)) == failures + 1 })
                #expect(try EdgeFleet.metric(edge, "edgenode_config_last_reload_successful") == 0)
                let logged = says.replacingOccurrences(of: "\"", with: "\\\"")
                #expect(EdgeFleet.eventually { edge.log.contains(logged) }, "the log says why: \(edge.log.suffix(1000))")
                // A miss still fills from origin-1.
                #expect(try RawHTTPConnection.get(edge.host, edge.port, "/" + segments[failures + 1]).status == 200)
            }
            #expect(edge.log.contains("configuration not reloaded; keeping the one in force"))
            try good.write(toFile: fleet.configPath, atomically: true, encoding: .utf8)
            let fixed = try Self.reload(fleet, "edge-1")
            #expect(fixed.status == 0 && fixed.stdout.contains("nothing changed"), "\(fixed.stdout) \(fixed.stderr)")
            #expect(try EdgeFleet.metric(edge, "edgenode_config_last_reload_successful") == 1)
        }
    }

    @Test func reloadWithoutARunningNodeSaysSo() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
            fleet.addCache("edge-1", parents: ["origin-1"])
            try fleet.startOrigin()
            let missing = try Self.reload(fleet, "edge-1")
            #expect(missing.status == 2 && missing.stderr.contains("node edge-1 is not running"), "\(missing.stderr)")
            // A pid file a crashed node left behind, naming a process that is not that node (this test process).
            try FileManager.default.createDirectory(atPath: fleet.cacheDirectory("edge-1"), withIntermediateDirectories: true)
            try "\(getpid())\n".write(toFile: fleet.cacheDirectory("edge-1") + "/.edgenode-edge-1.pid", atomically: true, encoding: .utf8)
            let stale = try Self.reload(fleet, "edge-1")
            #expect(stale.status == 2 && stale.stderr.contains("which is not `edgenode serve --node edge-1`"), "\(stale.stderr)")
            let unknown = try Self.reload(fleet, "edge-9")
            #expect(unknown.status == 2 && unknown.stderr.contains("no node named \"edge-9\""), "\(unknown.stderr)")
        }
    }

    /// Two clients fetch the playlist and segments (keep-alive and fresh connections) for 10 s while the edge is told
    /// to reload every 100 ms, its file alternating between two valid versions (parents, cache budget, log level):
    /// no request fails.
    @Test func noRequestFailsWhileReloadingEvery100Milliseconds() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let (fleet, second, edge) = try await Self.twoOriginsAndAnEdge()
            let first = try String(contentsOfFile: fleet.configPath, encoding: .utf8)
            try fleet.rewriteCache("edge-1", parents: ["origin-2", "origin-1"], extra: ["prefetch": "0", "cache_size": "\"3GiB\"", "log_level": "\"notice\""])
            let other = try String(contentsOfFile: fleet.configPath, encoding: .utf8)
            let paths = ["/content-ts/master.m3u8", "/content-ts/360p/index.m3u8"] + (try fleet.segments("ts")).map { "/" + $0 }
                + (try fleet.segments("fmp4")).map { "/" + $0 }
            let tally = Mutex((requests: 0, failures: [String]()))
            let stop = Atomic<Bool>(false)
            let clients = (0..<2).map { client in
                Thread {
                    var index = client
                    var connection: RawHTTPConnection?
                    while !stop.load(ordering: .relaxed) {
                        let path = paths[index % paths.count]
                        index += 1
                        do {
                            // Every third request on a fresh connection, the others kept alive.
                            if connection == nil || index % 3 == 0 { connection = try RawHTTPConnection(host: edge.host, port: edge.port) }
                            try connection!.send("GET \(path) HTTP/1.1\r\nHost: edge\r\n\r\n")
                            guard let response = try connection!.readResponse(), response.status == 200 else {
                                throw FixtureError(message: "no 200")
                            }
                            tally.withLock { $0.requests += 1 }
                            // Paced (a few hundred requests a second): the suites running beside this one keep their CPU.
                            usleep(2_000)
                        } catch {
                            tally.withLock { $0.failures.append("\(path): \(error)") }
                            connection = nil
                        }
                    }
                }
            }
            clients.forEach { $0.start() }
            let started = Date()
            var signals = 0
            while Date().timeIntervalSince(started) < 10 {
                try (signals % 2 == 0 ? other : first).write(toFile: fleet.configPath, atomically: true, encoding: .utf8)
                kill(edge.pid, SIGHUP)
                signals += 1
                usleep(100_000)
            }
            stop.store(true, ordering: .relaxed)
            #expect(EdgeFleet.eventually(15) { clients.allSatisfy(\.isFinished) })
            let (requests, failures) = tally.withLock { ($0.requests, $0.failures) }
            #expect(failures.isEmpty, "\(failures.count) failed of \(requests): \(failures.prefix(5))")
            #expect(requests > 100, "\(requests) requests")
            // Signals that arrive during a reload may be merged into one (as with any signal): most, not all, are counted.
            #expect(EdgeFleet.eventually(5) { (try? EdgeFleet.metric(edge, #"edgenode_config_reloads_total{outcome="success"}"#)) ?? 0 >= signals / 2 },
                    "\(signals) signals")
            #expect(try EdgeFleet.metric(edge, #"edgenode_config_reloads_total{outcome="failure"}"#) == 0)
            #expect(edge.isRunning && second.isRunning)
        }
    }

    /// READY=1 once listening, WATCHDOG=1 while the loops run, RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a
    /// reload, STOPPING=1 on SIGTERM, to the socket named by NOTIFY_SOCKET.
    @Test func theNotifyProtocolReachesTheSupervisorsSocket() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
            fleet.addCache("edge-1", parents: ["origin-1"])
            try fleet.startOrigin()
            let socket = try NotifySocket(fleet.directory.path + "/notify.sock")
            let edge = try fleet.start("edge-1", environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "400000"])
            let ready = try #require(socket.await("READY=1", timeout: 15), "READY=1: \(edge.log.suffix(2000))")
            #expect(ready.dropLast().allSatisfy { $0 == ["WATCHDOG=1"] }, "nothing but watchdog pings before READY=1: \(ready)")
            #expect(ready.last!.contains("STATUS=serving"))
            var watchdogs = 0
            let deadline = Date().addingTimeInterval(3)
            while Date() < deadline, watchdogs < 3 {
                if socket.receive(timeout: 1)?.contains("WATCHDOG=1") == true { watchdogs += 1 }
            }
            #expect(watchdogs >= 3, "WATCHDOG=1 every 200 ms")
            kill(edge.pid, SIGHUP)
            let reload = try #require(socket.await("RELOADING=1", timeout: 10))
            let reloading = reload.last!
            #expect(reloading.contains { $0.hasPrefix("MONOTONIC_USEC=") && UInt64($0.dropFirst(15)).map { $0 > 0 } == true }, "\(reloading)")
            let after = try #require(socket.await("READY=1", timeout: 10))
            #expect(after.last!.contains { $0.hasPrefix("STATUS=serving (reload 1)") }, "\(after)")
            #expect(edge.stop(signal: SIGTERM) == 0)
            #expect(socket.await("STOPPING=1", timeout: 5) != nil)
        }
    }

    /// A node added to nodes.conf joins the origin's gossip roster and is routed to once the origin reloads; removed
    /// again, it is forgotten and no longer routed to although it still runs.
    @Test func nodesAddedAndRemovedByAReloadChangeWhereViewersGo() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            // An origin name no other test uses: its pid file sits in the content directory every test's origins share.
            let fixture = try await PublishedContent.shared.fixture()
            let directory = try TemporaryDirectory("reload-nodes")
            defer { directory.remove() }
            let keyring = directory.path + "/gossip.keyring"
            try #require(try EdgeNodeBinary.run(["gossip-key", "generate", "--keyring", keyring]).status == 0)
            let (origin, edgeA, edgeB) = (LoopbackAddress.next(), LoopbackAddress.next(), LoopbackAddress.next())
            let viewer = "127.0.88.9"
            func node(_ name: String, _ role: String, _ host: String, _ latitude: Int, extra: String) -> String {
                "[[node]]\nname = \"\(name)\"\nrole = \"\(role)\"\nregion = \"r\"\nlatitude = \(latitude)\nlongitude = \(latitude)\n"
                    + "http = \"\(host):18600\"\ngossip = \"\(host):17600\"\nthreads = 1\n" + extra + "\n"
            }
            let head = "[fleet]\nname = \"reload\"\ngossip_keyring = \"\(keyring)\"\ngossip_seeds = [\"origin-r\"]\n\n[routing]\nrecovery_seconds = 0\n\n"
                + "[[zone]]\nname = \"near-b\"\nnetworks = [\"127.0.88.0/24\"]\nlatitude = 40\nlongitude = 40\n\n"
                + node("origin-r", "origin", origin, 0, extra: "content = \"\(fixture.root)\"")
                + node("edge-a", "edge", edgeA, 10, extra: "content = \"\(directory.path)/a\"\nparents = [\"origin-r\"]\norigin_key = \"\(fixture.pubkey)\"")
            let withB = head + node("edge-b", "edge", edgeB, 40, extra: "content = \"\(directory.path)/b\"\nparents = [\"origin-r\"]\norigin_key = \"\(fixture.pubkey)\"")
            let config = directory.path + "/nodes.conf"
            try head.write(toFile: config, atomically: true, encoding: .utf8)
            let servers = try [origin, edgeA].enumerated().map { index, host in
                try ServerProcess(EdgeNodeBinary.path, ["serve", "--config", config, "--node", index == 0 ? "origin-r" : "edge-a"], host: host, port: 18_600)
            }
            try withB.write(toFile: config, atomically: true, encoding: .utf8)
            let b = try ServerProcess(EdgeNodeBinary.path, ["serve", "--config", config, "--node", "edge-b"], host: edgeB, port: 18_600)
            func members() -> [String: String] {
                guard let response = try? RawHTTPConnection.get(origin, 18_600, "/cluster"), response.status == 200,
                      let snapshot = try? JSONDecoder().decode(ClusterSnapshot.self, from: Data(response.body)) else { return [:] }
                return Dictionary(uniqueKeysWithValues: snapshot.members.map { ($0.name, $0.status) })
            }
            func routed() throws -> String? {
                let response = try RawHTTPConnection.get(origin, 18_600, "/content-ts/master.m3u8", source: viewer)
                return response.status == 302 ? response.header("Location") : "served \(response.status)"
            }
            #expect(EdgeFleet.eventually(20) { members() == ["origin-r": "alive", "edge-a": "alive"] }, "\(members())")
            usleep(2_000_000)
            #expect(members()["edge-b"] == nil, "edge-b is not in origin-r's roster yet: its gossip is refused")
            let before = try routed()
            #expect(before?.hasPrefix("http://\(edgeA):18600/") == true, "edge-b is not in origin-r's nodes.conf yet: \(before ?? "")")

            let added = try Self.reload(config, "origin-r")
            #expect(added.status == 0 && added.stdout.contains("applied nodes"), "\(added.stdout) \(added.stderr)")
            #expect(EdgeFleet.eventually(30) { members()["edge-b"] == "alive" }, "taken once it announced itself: \(members())")
            let after = try routed()
            #expect(after?.hasPrefix("http://\(edgeB):18600/") == true, "the viewer near edge-b goes there now: \(after ?? "")")

            try head.write(toFile: config, atomically: true, encoding: .utf8)
            let removed = try Self.reload(config, "origin-r")
            #expect(removed.status == 0 && removed.stdout.contains("applied nodes"), "\(removed.stdout) \(removed.stderr)")
            #expect(EdgeFleet.eventually(5) { members()["edge-b"] == nil }, "forgotten by origin-r, though it still runs: \(members())")
            let again = try routed()
            #expect(again?.hasPrefix("http://\(edgeA):18600/") == true, "a node removed from nodes.conf is not routed to: \(again ?? "")")
            #expect(servers.allSatisfy(\.isRunning) && b.isRunning)
        }
    }

    static func reload(_ config: String, _ node: String) throws -> ProcessOutput {
        try ProcessRunner.run(EdgeNodeBinary.path, ["reload", "--config", config, "--node", node], timeout: 30)
    }
}
