import Dispatch
import Foundation
import Gossip
import Manifest
import Logging
import Routing
import ServiceLifecycle
import Testing
import TestSupport
@testable import EdgeNode

@Suite struct ClusterViewTests {
    static func member(_ name: String, role: String, status: MemberStatus = .alive, incarnation: UInt64 = 1, load: UInt16 = 0,
                       changedAt: UInt64 = 0) -> Gossip.Member {
        Gossip.Member(info: MemberInfo(name: name, role: role, region: "eu", latitude: 48_856_600, longitude: 2_352_200,
                                       http: "127.0.0.1:8080", gossip: GossipAddress(host: "127.0.0.1", port: 7946)),
                      incarnation: incarnation, status: status, health: NodeHealth(activeConnections: 3, cacheHitPermille: 750, loadScore: load),
                      changedAt: changedAt)
    }

    @Test func typedFromTheCoreAndRenderedAsJSON() throws {
        let view = ClusterView(node: "edge-1", localHealthMultiplier: 2,
                               members: [Self.member("origin-1", role: "origin", changedAt: 1_000_000_000),
                                         Self.member("edge-1", role: "edge", status: .suspect, incarnation: 4)],
                               records: ["emergency": ClusterRecord(key: "emergency", epoch: 3, value: [1, 2], signature: [9])])
        #expect(view.members.map(\.name) == ["edge-1", "origin-1"])
        #expect(view.members.map(\.role) == [.edge, .origin])
        #expect(view.members[1].location == GeoPoint(latitude: 48.8566, longitude: 2.3522))
        #expect(view.records == [ClusterView.Record(key: "emergency", epoch: 3, value: [1, 2], signed: true)])
        let snapshot = ClusterSnapshot(view, now: 3_500_000_000)
        let decoded = try JSONDecoder().decode(ClusterSnapshot.self, from: JSONEncoder().encode(snapshot))
        #expect(decoded == snapshot)
        #expect(decoded.members.map(\.status) == ["suspect", "alive"])
        #expect(decoded.members[1].lastChangeSecondsAgo == 2.5 && decoded.members[1].health.cacheHitRatio == 0.75)
        #expect(decoded.records[0].valueBase64 == "AQI=" && decoded.localHealthMultiplier == 2)
    }

    @Test func routingMembersCarryStatusLoadAndTimeAlive() {
        let view = ClusterView(node: "a", localHealthMultiplier: 0,
                               members: [Self.member("a", role: "edge", load: 420, changedAt: 2_000_000_000),
                                         Self.member("b", role: "mesh", status: .dead, changedAt: 1_000_000_000)],
                               records: [:])
        let members = view.routingMembers(now: 12_000_000_000)
        #expect(members.map(\.status) == [.alive, .dead])
        #expect(members[0].aliveForSeconds == 10 && members[1].aliveForSeconds == 0)
        #expect(members[0].load == 420 && members.map(\.role) == [.edge, .mesh])
    }

    @Test func onlyMembershipChangesCount() {
        let base = ClusterView(node: "a", localHealthMultiplier: 0, members: [Self.member("a", role: "edge")], records: [:])
        let busier = ClusterView(node: "a", localHealthMultiplier: 1, members: [Self.member("a", role: "edge", load: 900, changedAt: 5)],
                                 records: [:])
        #expect(!base.differsInMembership(from: busier), "health and timing are not membership")
        let suspect = ClusterView(node: "a", localHealthMultiplier: 0, members: [Self.member("a", role: "edge", status: .suspect)], records: [:])
        let refuted = ClusterView(node: "a", localHealthMultiplier: 0, members: [Self.member("a", role: "edge", incarnation: 2)], records: [:])
        let joined = ClusterView(node: "a", localHealthMultiplier: 0, members: [Self.member("a", role: "edge"), Self.member("b", role: "edge")],
                                 records: [:])
        let flagged = ClusterView(node: "a", localHealthMultiplier: 0, members: [Self.member("a", role: "edge")],
                                  records: ["k": ClusterRecord(key: "k", epoch: 1, value: [])])
        for changed in [suspect, refuted, joined, flagged] { #expect(base.differsInMembership(from: changed)) }
    }

    /// Rates come from the sampler's own previous reading; the totals are never reset by reading them.
    @Test func healthRatesFromRunningTotals() {
        var gossip = HealthSampler(), status = HealthSampler()
        _ = gossip.sample(TrafficTotals(bodyBytes: 1_000, cacheHits: 1, cacheLookups: 2), now: 10_000_000_000, connections: 0, maxConnections: 10)
        let health = gossip.sample(TrafficTotals(bodyBytes: 5_000_000, cacheHits: 9, cacheLookups: 12), now: 12_000_000_000, connections: 5,
                                   maxConnections: 10)
        #expect(health.egressBytesPerSecond == 2_499_500 && health.cacheHitPermille == 800)
        #expect(health.loadScore == 500 && health.activeConnections == 5)
        // Another reader of the same totals sees the whole history as its first interval (one second by convention).
        let first = status.sample(TrafficTotals(bodyBytes: 5_000_000, cacheHits: 9, cacheLookups: 12), now: 12_000_000_000, connections: 5,
                                  maxConnections: 10)
        #expect(first.egressBytesPerSecond == 0 && first.cacheHitPermille == 0)
        let wrapped = gossip.sample(TrafficTotals(bodyBytes: 0, cacheHits: 0, cacheLookups: 0), now: 12_000_000_000, connections: 20,
                                    maxConnections: 10)
        #expect(wrapped.loadScore == 1000, "never traps, load capped")
    }
}

/// Two gossip services in one process: the change stream reports a peer joining and then leaving; a record published
/// at one reaches the other.
@Suite(.serialized) struct ClusterChangeStreamTests {
    static let operatorKey = try! NoteSigner.generate(name: "operator-alice")

    static let flagCheck = EmergencyFlagCheck(fleet: "stream", operatorKeys: [operatorKey.verifier])

    /// Two services on 127.0.77.`host`+1 and +2, probing every 200 ms, taking emergency flags signed by `operatorKey`;
    /// the second holds `initial` from the start.
    static func pair(_ directory: TemporaryDirectory, host: Int, initial: [ClusterRecord] = []) throws -> (GossipService, GossipService) {
        let keyring = directory.path + "/gossip.keyring"
        try KeyringFile.save(Keyring(primary: KeyringFile.generateKey()), to: keyring, replace: false)
        func info(_ index: Int) -> MemberInfo {
            MemberInfo(name: "node-\(index)", role: "edge", region: "eu", latitude: 0, longitude: 0, http: "127.0.0.1:1",
                       gossip: GossipAddress(host: "127.0.77.\(host + index + 1)", port: 17_780))
        }
        func service(_ index: Int) -> GossipService {
            var settings = GossipNodeSettings(me: info(index), fleet: [info(1 - index)], seeds: [info(0).gossip], keyringPath: keyring,
                                              fleetName: "stream")
            settings.protocolSettings.probeInterval = 200_000_000
            settings.protocolSettings.probeTimeout = 100_000_000
            settings.recordValidator = EmergencyRecord.validator(flagCheck)
            if index == 1 { settings.initialRecords = initial }
            return GossipService(settings: settings, health: { NodeHealth() }, logger: Logger(label: "test"))
        }
        return (service(0), service(1))
    }

    /// A signed emergency flag published at one node reaches the other; an older one, a forged one, another fleet's
    /// and a record of an unknown key are refused where they are published, so none is ever spread.
    @Test func aPublishedFlagReachesThePeerAndForgeriesAreRefused() async throws {
        let directory = try TemporaryDirectory("cluster-record")
        defer { directory.remove() }
        let (publisher, peer) = try Self.pair(directory, host: 10)
        let now = Int64(Date().timeIntervalSince1970)
        func flag(_ epoch: UInt64, fleet: String = "stream", signer: NoteSigner = Self.operatorKey) throws -> ClusterRecord {
            let flag = try EmergencyFlag(fleet: fleet, epoch: epoch, on: true, issuedAt: now, reason: "drill")
            return EmergencyRecord.record(flag, note: try flag.signed(by: signer))
        }
        await #expect(throws: GossipNotRunning.self) { try await publisher.publish(try flag(1)) }
        let tasks = [publisher, peer].map { service in
            Task(executorPreference: DispatchTaskExecutor.shared) {
                try await ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: Logger(label: "test")).run()
            }
        }
        defer { for task in tasks { task.cancel() } }
        var taken = false
        for _ in 0..<50 where !taken {
            taken = (try? await publisher.publish(try flag(2))) ?? false
            if !taken { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(taken)
        #expect(try await !publisher.publish(try flag(1)), "an older epoch is not taken")
        #expect(try await !publisher.publish(try flag(3, signer: NoteSigner.generate(name: "operator-alice"))), "another key")
        #expect(try await !publisher.publish(try flag(4, fleet: "elsewhere")), "another fleet")
        #expect(try await !publisher.publish(ClusterRecord(key: "anything", epoch: 5, value: [1])), "unknown record keys are refused")
        var forged = try flag(6)
        forged.value[forged.value.count / 3] ^= 0x01
        #expect(try await !publisher.publish(forged), "a changed byte")
        #expect(await NodeRuntimeTests.eventually(10) {
            peer.view()?.records.contains { $0.key == EmergencyRecord.key && $0.epoch == 2 } == true
        }, "the peer holds the flag")
        #expect(peer.view()?.records.count == 1)
        let shown = try #require(peer.snapshot()?.emergency, "/cluster shows the mode")
        #expect(shown == ClusterSnapshot.Emergency(mode: "on", epoch: 2, signedBy: ["operator-alice"], issuedAt: now, reason: "drill"))
    }

    /// The flag a node took is kept on disk and held again from the start after a restart, even with no peer up; a
    /// kept file that no longer passes the checks is ignored.
    @Test func aKeptFlagSurvivesARestartAlone() async throws {
        let directory = try TemporaryDirectory("cluster-kept")
        defer { directory.remove() }
        let content = directory.path + "/content"
        try FileManager.default.createDirectory(atPath: content, withIntermediateDirectories: true)
        let file = EmergencyFlagFile(content: content, check: Self.flagCheck)
        let (publisher, peer) = try Self.pair(directory, host: 20)
        let state = NodeState(name: "node-1", role: .edge)
        let keeper = EmergencyFlagKeeper(file: file, loaded: file.load(logger: Logger(label: "test")), gossip: peer, state: state, logger: Logger(label: "test"))
        let groups = [ServiceGroup(services: [publisher], gracefulShutdownSignals: [], logger: Logger(label: "test")),
                      ServiceGroup(services: [peer, keeper], gracefulShutdownSignals: [], logger: Logger(label: "test"))]
        let tasks = groups.map { group in Task(executorPreference: DispatchTaskExecutor.shared) { try await group.run() } }
        let flag = try EmergencyFlag(fleet: "stream", epoch: 3, on: true, issuedAt: Int64(Date().timeIntervalSince1970), reason: "drill")
        var taken = false
        for _ in 0..<50 where !taken {
            taken = (try? await publisher.publish(EmergencyRecord.record(flag, note: try flag.signed(by: Self.operatorKey)))) ?? false
            if !taken { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(await NodeRuntimeTests.eventually(10) { file.load(logger: Logger(label: "test"))?.epoch == 3 }, "the peer kept it")
        #expect(state.emergencyOn, "and routes in emergency mode")
        for group in groups { await group.triggerGracefulShutdown() }
        for task in tasks { _ = try? await task.value }

        let kept = try #require(file.load(logger: Logger(label: "test")))
        let second = try TemporaryDirectory("cluster-kept-restart")
        defer { second.remove() }
        let (_, restarted) = try Self.pair(second, host: 30, initial: [kept])
        let alone = Task(executorPreference: DispatchTaskExecutor.shared) {
            try await ServiceGroup(services: [restarted], gracefulShutdownSignals: [], logger: Logger(label: "test")).run()
        }
        defer { alone.cancel() }
        #expect(await NodeRuntimeTests.eventually(5) {
            restarted.view()?.records.contains { $0.key == EmergencyRecord.key && $0.epoch == 3 } == true
        }, "back in the same mode with no peer up")

        var bytes = try Data(contentsOf: URL(fileURLWithPath: file.path))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: file.path))
        #expect(file.load(logger: Logger(label: "test")) == nil, "bytes changed on disk are not trusted")
    }

    @Test func changesFollowMembership() async throws {
        let directory = try TemporaryDirectory("cluster-stream")
        defer { directory.remove() }
        let (watcher, peer) = try Self.pair(directory, host: 0)
        let watching = Task(executorPreference: DispatchTaskExecutor.shared) {
            try await ServiceGroup(services: [watcher], gracefulShutdownSignals: [], logger: Logger(label: "test")).run()
        }
        let peerGroup = ServiceGroup(services: [peer], gracefulShutdownSignals: [], logger: Logger(label: "test"))
        let peering = Task(executorPreference: DispatchTaskExecutor.shared) { try await peerGroup.run() }
        defer { watching.cancel() }
        try await Task.sleep(for: .milliseconds(300))
        var statuses: [MemberStatus] = []
        let reader = Task(executorPreference: DispatchTaskExecutor.shared) {
            var seen: [MemberStatus] = []
            for await view in watcher.changes() {
                guard let status = view.members.first(where: { $0.name == "node-1" })?.status else { continue }
                if seen.last != status { seen.append(status) }
                if status == .left || status == .dead { break }
            }
            return seen
        }
        try await Task.sleep(for: .seconds(1))
        await peerGroup.triggerGracefulShutdown()
        _ = try? await peering.value
        let deadline = Task {
            try await Task.sleep(for: .seconds(10))
            reader.cancel()
        }
        statuses = await reader.value
        deadline.cancel()
        #expect(statuses.first == .alive, "\(statuses)")
        #expect(statuses.last == .left, "a graceful leave arrives as a change: \(statuses)")
        #expect(watcher.snapshot()?.members.count == 2)
    }
}
