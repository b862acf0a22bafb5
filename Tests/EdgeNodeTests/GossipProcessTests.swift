import EdgeCache
import Foundation
import Manifest
import EdgeNode
import Gossip
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Gossip between real processes on loopback: crash detection, a paused process that comes back, foreign packets.
@Suite(.serialized) struct GossipProcessTests {
    static let size = 8

    static func converged(_ fleet: GossipFleet, alive: Set<Int>, within seconds: Double = 15) -> Bool {
        EdgeFleet.eventually(seconds) {
            alive.allSatisfy { observer in
                guard let view = fleet.view(observer) else { return false }
                return alive.allSatisfy { target in view.members.contains { $0.name == "node-\(target)" && $0.status == "alive" } }
            }
        }
    }

    @Test func aKilledNodeIsDeclaredDeadByAllOthersWithinTheBound() async throws {
        let fleet = try GossipFleet(size: Self.size, pubkey: try await PublishedContent.shared.fixture().pubkey)
        try fleet.startAll()
        #expect(Self.converged(fleet, alive: Set(0..<Self.size)), "all members alive everywhere")
        let victim = 5
        let killed = Date()
        fleet.signal(victim, SIGKILL)
        // Eight periods for someone to probe it, the longest suspicion at n = 8 (4.5 s), two seconds to spread.
        let bound = 8.0 + 4.5 + 2.0
        let others = (0..<Self.size).filter { $0 != victim }
        var declared: [Int: Double] = [:]
        _ = EdgeFleet.eventually(bound + 5) {
            for observer in others where declared[observer] == nil && fleet.status(of: victim, seenBy: observer) == "dead" {
                declared[observer] = Date().timeIntervalSince(killed)
            }
            return declared.count == others.count
        }
        #expect(declared.count == others.count, "\(others.count - declared.count) members never declared it dead")
        #expect((declared.values.max() ?? .infinity) <= bound, "slowest: \(declared.values.max() ?? -1) s")
        #expect(others.allSatisfy { observer in others.allSatisfy { fleet.status(of: $0, seenBy: observer) == "alive" } },
                "no one else was declared dead")
        let deaths = others.map { fleet.metric($0, "edgenode_gossip_deaths_declared_total") }.reduce(0, +)
        #expect(deaths >= 1, "someone's suspicion expired into a death")
        #expect(others.allSatisfy { fleet.metric($0, "edgenode_gossip_probes_sent_total") > 0 })
        #expect(others.map { fleet.metric($0, "edgenode_gossip_probes_failed_total") }.reduce(0, +) >= 1)
    }

    @Test func aPausedNodeRefutesAndIsNeverDeclaredDead() async throws {
        let fleet = try GossipFleet(size: Self.size, pubkey: try await PublishedContent.shared.fixture().pubkey)
        try fleet.startAll()
        #expect(Self.converged(fleet, alive: Set(0..<Self.size)))
        let paused = 3
        let others = (0..<Self.size).filter { $0 != paused }
        // Stopped for less than the shortest suspicion timeout at n = 8 (1.5 s).
        fleet.signal(paused, SIGSTOP)
        var seenDead = false
        var suspectedAt: UInt64?
        func watch() {
            for observer in others {
                guard let entry = fleet.view(observer)?.members.first(where: { $0.name == "node-\(paused)" }) else { continue }
                seenDead = seenDead || entry.status == "dead"
                if entry.status == "suspect" { suspectedAt = max(suspectedAt ?? 0, entry.incarnation) }
            }
        }
        let stopped = Date()
        while Date().timeIntervalSince(stopped) < 1.2 {
            watch()
            usleep(50_000)
        }
        fleet.signal(paused, SIGCONT)
        let resumed = Date()
        while Date().timeIntervalSince(resumed) < 8 {
            watch()
            usleep(100_000)
        }
        #expect(!seenDead, "never declared dead")
        #expect(Self.converged(fleet, alive: Set(0..<Self.size), within: 5))
        if let suspectedAt {
            // Suspected while paused: it answered with a higher incarnation, which everyone now holds.
            let incarnations = others.compactMap { fleet.view($0)?.members.first { $0.name == "node-\(paused)" }?.incarnation }
            #expect(incarnations.count == others.count && incarnations.allSatisfy { $0 > suspectedAt }, "\(incarnations) after \(suspectedAt)")
        }
    }

    @Test func packetsWithoutTheKeyOrMalformedAreDroppedAndCounted() async throws {
        let fleet = try GossipFleet(size: 2, pubkey: try await PublishedContent.shared.fixture().pubkey)
        try fleet.startAll()
        #expect(Self.converged(fleet, alive: [0, 1]))
        var generator = SystemRandomNumberGenerator()
        var stranger = PacketSealer(keyring: Keyring(primary: Keyring.Key.random(using: &generator)), boot: 1, fleet: "test")
        let forged = try stranger.seal(GossipMessage(sender: "node-0", kind: .gossip,
                                                     updates: [.dead(name: "node-1", incarnation: 99, from: "node-0")]),
                                       nowMillis: UInt64(Date().timeIntervalSince1970 * 1000))
        for datagram in [forged, [0xE2, 1, 2, 3], Array(repeating: 0x41, count: 2_000)] {
            try Self.sendUDP(datagram, to: fleet.hosts[1], port: GossipFleet.gossipPort)
        }
        #expect(EdgeFleet.eventually(5) {
            fleet.metric(1, "edgenode_gossip_packets_dropped_total{reason=\"unknown_key\"}") == 1
                && fleet.metric(1, "edgenode_gossip_packets_dropped_total{reason=\"malformed\"}") == 1
                && fleet.metric(1, "edgenode_gossip_packets_dropped_total{reason=\"oversized\"}") == 1
        })
        #expect(fleet.status(of: 1, seenBy: 1) == "alive" && fleet.view(1)?.members.first { $0.name == "node-1" }?.incarnation ?? 99 < 99)
        #expect(fleet.servers[1]?.isRunning == true)
        // A member holding the fleet key (the realistic case: a compromised mesh peer) sends the updates that used to
        // crash their subject, and a hijacked address; another fleet sharing the keyring sends a death.
        let keyring = try KeyringFile.load(fleet.keyring)
        let nowMillis = UInt64(Date().timeIntervalSince1970 * 1000)
        var byzantine = PacketSealer(keyring: keyring, boot: nowMillis, fleet: "test")
        let hijacked = MemberInfo(name: "node-0", role: "origin", region: "r0", latitude: 0, longitude: 0, http: "203.0.113.1:80",
                                  gossip: GossipAddress(host: "203.0.113.1", port: 7946))
        let hostile = GossipMessage(sender: "node-0", kind: .gossip, updates: [
            .suspect(name: "node-1", incarnation: .max, from: "node-0"), .alive(hijacked, incarnation: 1 << 20, health: NodeHealth()),
            .heartbeat(name: "node-1", incarnation: .max, health: NodeHealth())])
        try Self.sendUDP(try byzantine.seal(hostile, nowMillis: nowMillis), to: fleet.hosts[1], port: GossipFleet.gossipPort)
        var otherFleet = PacketSealer(keyring: keyring, boot: nowMillis, fleet: "staging")
        let death = GossipMessage(sender: "node-0", kind: .gossip, updates: [.dead(name: "node-1", incarnation: 1, from: "node-0")])
        try Self.sendUDP(try otherFleet.seal(death, nowMillis: nowMillis), to: fleet.hosts[1], port: GossipFleet.gossipPort)
        #expect(EdgeFleet.eventually(5) {
            fleet.metric(1, "edgenode_gossip_updates_refused_total") >= 3
                && fleet.metric(1, "edgenode_gossip_packets_dropped_total{reason=\"other_fleet\"}") == 1
        })
        #expect(fleet.servers[1]?.isRunning == true, "the node survives")
        #expect(fleet.view(1)?.members.first { $0.name == "node-0" }?.gossip == "\(fleet.hosts[0]):\(GossipFleet.gossipPort)")
        #expect(fleet.status(of: 1, seenBy: 0) == "alive" && fleet.status(of: 0, seenBy: 1) == "alive")
        // `edgenode status` prints node 1's view as a table.
        let status = try EdgeNodeBinary.run(["status", "--config", fleet.config, "--node", "node-1"])
        #expect(status.status == 0, "\(status.stderr)")
        let rows = status.stdout.split(separator: "\n")
        #expect(rows.count == 4 && rows[1].hasPrefix("NAME") && rows[2].hasPrefix("node-0") && rows[3].hasPrefix("node-1"))
        #expect(rows[2].contains("alive") && rows[2].contains("origin") && rows[3].contains("edge"))
    }

    /// A node finds the emergency flag it kept in its content directory, checks it, holds it from the start and
    /// gossips it: `edgenode status` on another node shows the mode, epoch, signer and issue time.
    @Test func aKeptEmergencyFlagIsHeldFromTheStartAndShown() async throws {
        let scratch = try TemporaryDirectory("operator")
        defer { scratch.remove() }
        _ = try EdgeNodeBinary.run(["operator", "keygen", "--out", scratch.path + "/alice", "--name", "operator-alice"])
        let fleet = try GossipFleet(size: 2, pubkey: try await PublishedContent.shared.fixture().pubkey, operatorKeys: [scratch.path + "/alice.pub"])
        let issued = Int64(Date().timeIntervalSince1970)
        let flag = try EmergencyFlag(fleet: "test", epoch: 5, on: true, issuedAt: issued, reason: "drill in eu-west")
        let note = try flag.signed(by: KeyStore.loadSigner(path: scratch.path + "/alice.key"))
        try FileManager.default.createDirectory(atPath: fleet.directory.path + "/cache-1", withIntermediateDirectories: true)
        try note.rendered.write(toFile: fleet.directory.path + "/cache-1/.emergency.note", atomically: true, encoding: .utf8)
        try fleet.startAll()
        #expect(EdgeFleet.eventually(10) { fleet.view(0)?.emergency?.epoch == 5 }, "node-1 spread the flag it kept")
        let status = try EdgeNodeBinary.run(["status", "--config", fleet.config, "--node", "node-0"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("emergency mode ON (epoch 5, signed by operator-alice, issued ")
                && status.stdout.contains("drill in eu-west"), "\(status.stdout)")
        #expect(FileManager.default.fileExists(atPath: fleet.directory.path + "/origin-content/.emergency.note"), "node-0 kept it too")
    }

    static func sendUDP(_ bytes: [UInt8], to host: String, port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError(message: "socket") }
        defer { close(fd) }
        let sent = IPv4Address.with(host, port) { sendto(fd, bytes, bytes.count, 0, $0, $1) }
        guard sent == bytes.count else { throw FixtureError(message: "sendto: \(String(cString: strerror(errno)))") }
    }
}
