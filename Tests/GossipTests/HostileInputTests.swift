import EdgeCache
import Testing
@testable import Gossip

/// Decoded messages with extreme and forged values, as a member holding the fleet key can send them: the core never
/// traps, never lets a forged update move a member's address or pin an incarnation out of reach, and keeps every
/// roster member described as the roster says.
@Suite struct HostileInputTests {
    typealias Core = GossipCore<SplitMix64>
    static let second = GossipCoreTests.second
    static let names = GossipCoreTests.names

    /// Values that break careless arithmetic, plus ordinary ones.
    static func extreme(_ generator: inout SplitMix64, known: UInt64) -> UInt64 {
        let jump = GossipSettings().maximumIncarnationJump
        let candidates: [UInt64] = [0, 1, .max, .max - 1, .max / 2, known, known &+ 1, known &+ jump, known &+ jump &+ 1,
                                    known &- 1, UInt64(UInt32.max), generator.next()]
        return candidates[Int.random(in: 0..<candidates.count, using: &generator)]
    }

    static func health(_ generator: inout SplitMix64) -> NodeHealth {
        let big = Bool.random(using: &generator)
        return NodeHealth(activeConnections: big ? .max : UInt32.random(in: 0...100, using: &generator),
                          egressBytesPerSecond: big ? .max : generator.next() >> UInt64.random(in: 0...63, using: &generator),
                          cacheHitPermille: big ? .max : UInt16.random(in: 0...1000, using: &generator),
                          loadScore: big ? .max : UInt16.random(in: 0...1000, using: &generator))
    }

    static func name(_ generator: inout SplitMix64) -> String {
        Int.random(in: 0..<8, using: &generator) == 0 ? "stranger-\(Int.random(in: 0..<3, using: &generator))"
            : names[Int.random(in: 0..<names.count, using: &generator)]
    }

    static func update(_ generator: inout SplitMix64, view: Core) -> GossipUpdate {
        let subject = name(&generator)
        let known = view.member(subject)?.incarnation ?? 0
        let incarnation = extreme(&generator, known: known)
        switch Int.random(in: 0..<6, using: &generator) {
        case 0:
            var info = GossipCoreTests.info(subject)
            if Bool.random(using: &generator) { info.gossip = GossipAddress(host: "203.0.113.66", port: 6666) }
            if Int.random(in: 0..<4, using: &generator) == 0 { info.role = "origin" }
            return .alive(info, incarnation: incarnation, health: health(&generator))
        case 1: return .suspect(name: subject, incarnation: incarnation, from: name(&generator))
        case 2: return .dead(name: subject, incarnation: incarnation, from: name(&generator))
        case 3: return .left(name: subject, incarnation: incarnation)
        case 4: return .heartbeat(name: subject, incarnation: incarnation, health: health(&generator))
        default:
            let size = [0, 1, ClusterRecord.maximumValueBytes, ClusterRecord.maximumValueBytes + 1][Int.random(in: 0..<4, using: &generator)]
            return .record(ClusterRecord(key: "emergency", epoch: extreme(&generator, known: 0),
                                         value: (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        }
    }

    static func message(_ generator: inout SplitMix64, view: Core) -> GossipMessage {
        let sequence = [0, 1, UInt32.max, UInt32.random(in: 0...UInt32.max, using: &generator)][Int.random(in: 0..<4, using: &generator)]
        let target = name(&generator)
        let kind: GossipMessage.Kind = switch Int.random(in: 0..<6, using: &generator) {
        case 0: .ping(sequence: sequence, target: target)
        case 1: .pingRequest(sequence: sequence, target: target, address: GossipAddress(host: "198.51.100.7", port: .max))
        case 2: .ack(sequence: sequence)
        case 3: .nack(sequence: sequence)
        case 4: .gossip
        default: .sync(reply: Bool.random(using: &generator))
        }
        let updates = (0..<Int.random(in: 0...8, using: &generator)).map { _ in update(&generator, view: view) }
        return GossipMessage(sender: name(&generator), kind: kind, updates: updates)
    }

    @Test(arguments: 0..<4) func extremeDecodedInputsNeverTrapOrHijack(seed: UInt64) {
        var generator = SplitMix64(seed: 0xF00D + seed)
        var cores = GossipCoreTests.cluster()
        let roster = Dictionary(uniqueKeysWithValues: Self.names.map { ($0, GossipCoreTests.info($0)) })
        var now = Self.second
        var incarnations = cores.mapValues { $0.me.incarnation }
        for step in 0..<6_000 {
            let receiver = Self.names[Int.random(in: 0..<Self.names.count, using: &generator)]
            now += UInt64.random(in: 0...(Self.second / 4), using: &generator)
            let directives: [GossipDirective]
            if Int.random(in: 0..<5, using: &generator) == 0 {
                directives = cores[receiver]!.tick(now: now)
            } else {
                let message = Self.message(&generator, view: cores[receiver]!)
                directives = cores[receiver]!.receive(message, from: GossipAddress(host: "192.0.2.1", port: 1), now: now)
            }
            for case .send(let message, let address) in directives {
                #expect(WireCodec.encode(message).count + PacketSealer.overhead <= 1_400, "step \(step): oversized packet")
                // Pings only ever go to addresses of the roster (or back to whoever asked).
                if case .ping = message.kind {
                    #expect(roster.values.contains { $0.gossip == address } || address.host == "192.0.2.1", "step \(step): ping to \(address)")
                }
            }
            let core = cores[receiver]!
            #expect(core.me.incarnation >= incarnations[receiver]!, "step \(step): own incarnation went back")
            #expect(core.me.incarnation < UInt64.max / 2, "step \(step): own incarnation pushed to \(core.me.incarnation)")
            incarnations[receiver] = core.me.incarnation
            for member in core.members {
                #expect(roster[member.info.name] == member.info, "step \(step): \(receiver) holds \(member.info)")
            }
        }
        #expect(cores.values.map(\.counters.updatesRefused).reduce(0, +) > 1_000)
    }

    @Test func anAbsurdIncarnationAboutAMemberIsRefusedNotRefuted() {
        var cores = GossipCoreTests.cluster()
        let before = cores["b"]!.me.incarnation
        for update: GossipUpdate in [.suspect(name: "b", incarnation: .max, from: "a"), .dead(name: "b", incarnation: .max, from: "a"),
                                     .alive(GossipCoreTests.info("b"), incarnation: .max, health: NodeHealth()),
                                     .heartbeat(name: "b", incarnation: .max, health: NodeHealth())] {
            _ = cores["b"]!.receive(GossipMessage(sender: "a", kind: .gossip, updates: [update]), from: GossipCoreTests.info("a").gossip, now: 1)
            _ = cores["c"]!.receive(GossipMessage(sender: "a", kind: .gossip, updates: [update]), from: GossipCoreTests.info("a").gossip, now: 1)
        }
        #expect(cores["b"]!.me.incarnation == before && cores["b"]!.counters.updatesRefused == 4)
        #expect(cores["c"]!.member("b")?.status == .alive && cores["c"]!.member("b")?.incarnation == 0)
        // Within the bound, a suspicion is refuted above it — and at the very top, the incarnation saturates.
        _ = cores["b"]!.receive(GossipMessage(sender: "a", kind: .gossip, updates: [.suspect(name: "b", incarnation: 1 << 31, from: "a")]),
                                from: GossipCoreTests.info("a").gossip, now: 2)
        #expect(cores["b"]!.me.incarnation == (1 << 31) + 1)
        cores["b"]!.me.incarnation = .max - 1
        _ = cores["b"]!.receive(GossipMessage(sender: "a", kind: .gossip, updates: [.suspect(name: "b", incarnation: .max, from: "a")]),
                                from: GossipCoreTests.info("a").gossip, now: 3)
        #expect(cores["b"]!.me.incarnation == .max)
    }

    @Test func anAliveClaimingAnotherAddressIsRefusedAndPingRequestsUseTheRoster() {
        var cores = GossipCoreTests.cluster()
        var hijacked = GossipCoreTests.info("d")
        hijacked.gossip = GossipAddress(host: "203.0.113.66", port: 7946)
        _ = cores["c"]!.receive(GossipMessage(sender: "a", kind: .gossip, updates: [.alive(hijacked, incarnation: 5, health: NodeHealth())]),
                                from: GossipCoreTests.info("a").gossip, now: 1)
        #expect(cores["c"]!.member("d")?.info == GossipCoreTests.info("d") && cores["c"]!.counters.updatesRefused == 1)
        let stranger = MemberInfo(name: "phantom", role: "edge", region: "r", latitude: 0, longitude: 0, http: "x:1",
                                  gossip: GossipAddress(host: "203.0.113.9", port: 1))
        _ = cores["c"]!.receive(GossipMessage(sender: "a", kind: .gossip, updates: [.alive(stranger, incarnation: 1, health: NodeHealth())]),
                                from: GossipCoreTests.info("a").gossip, now: 2)
        #expect(cores["c"]!.member("phantom") == nil && cores["c"]!.counters.updatesRefused == 2)
        let request = GossipMessage(sender: "a", kind: .pingRequest(sequence: 9, target: "d", address: hijacked.gossip))
        let pings = GossipCoreTests.sends(cores["c"]!.receive(request, from: GossipCoreTests.info("a").gossip, now: 3))
        #expect(pings.count == 1 && pings[0].1 == GossipCoreTests.info("d").gossip)
        let aimless = GossipMessage(sender: "a", kind: .pingRequest(sequence: 10, target: "phantom", address: stranger.gossip))
        #expect(GossipCoreTests.sends(cores["c"]!.receive(aimless, from: GossipCoreTests.info("a").gossip, now: 4)).isEmpty)
    }

    /// A stale accusation is answered to the accuser directly, once per protocol period however often it is repeated
    /// (forged accusations cannot make a node an amplifier).
    @Test func aStaleAccuserIsToldDirectlyButOnlyOncePerPeriod() {
        var cores = GossipCoreTests.cluster()
        cores["b"]!.me.incarnation = 10
        let accusations = GossipMessage(sender: "a", kind: .gossip, updates: Array(repeating: .suspect(name: "b", incarnation: 3, from: "c"), count: 50)
                                        + [.dead(name: "b", incarnation: 2, from: "c")])
        let first = GossipCoreTests.sends(cores["b"]!.receive(accusations, from: GossipCoreTests.info("a").gossip, now: Self.second))
        let toAccuser = first.filter { $0.1 == GossipCoreTests.info("c").gossip }
        #expect(toAccuser.count == 1 && toAccuser[0].0.updates == [.heartbeat(name: "b", incarnation: 10, health: NodeHealth())])
        let soon = GossipCoreTests.sends(cores["b"]!.receive(accusations, from: GossipCoreTests.info("a").gossip, now: Self.second + 1))
        #expect(soon.filter { $0.1 == GossipCoreTests.info("c").gossip }.isEmpty, "not again within the period")
        let later = GossipCoreTests.sends(cores["b"]!.receive(accusations, from: GossipCoreTests.info("a").gossip, now: 3 * Self.second))
        #expect(later.filter { $0.1 == GossipCoreTests.info("c").gossip }.count == 1)
    }
}
