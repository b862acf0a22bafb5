import EdgeCache
import Foundation
import Gossip
import GossipSimulation
import Testing

/// Whole clusters in the deterministic simulator (seeded: a failure replays from its seed).
@Suite struct SimulationTests {
    static let second: UInt64 = 1_000_000_000

    /// Detection bound: eight protocol periods for some member to probe it (each period about one member does, so
    /// the chance that none has after eight is about e⁻⁸), the longest suspicion, two seconds to spread the news.
    static func deathBound(_ settings: GossipSettings, members: Int) -> UInt64 {
        let suspicion = Double(settings.probeInterval) * max(1, log10(Double(members))) * settings.suspicionMaximumPeriods
        return 8 * settings.probeInterval + UInt64(suspicion) + 2 * second
    }

    @Test(arguments: [1, 2, 3]) func aCrashedMemberIsDeclaredDeadByEveryoneWithinTheBound(seed: UInt64) {
        var settings = GossipSimulation.Settings(members: 120, seed: seed)
        settings.loss = 0.01
        let simulation = GossipSimulation(settings)
        simulation.run(until: 10 * Self.second)
        let victim = 17
        simulation.crash(victim)
        let bound = Self.deathBound(settings.gossip, members: 120)
        simulation.run(until: 10 * Self.second + bound)
        let latest = (0..<120).filter { $0 != victim }.map { simulation.deadSeen[$0][victim] }
        let missing = latest.filter { $0 == nil }.count
        let first = latest.compactMap { $0 }.min().map { Double($0) / 1e9 - 10 } ?? -1
        #expect(missing == 0, "every member declared the crashed one dead within \(bound / Self.second) s: \(missing) did not; first at \(first) s")
        #expect(simulation.falseDeaths.isEmpty, "\(simulation.falseDeaths.count) false deaths")
        let slowest = latest.compactMap { $0 }.max() ?? 0
        #expect(slowest - 10 * Self.second <= bound)
    }

    @Test func noFalsePositivesAtTenPercentLoss() {
        var settings = GossipSimulation.Settings(members: 100, seed: 3)
        settings.loss = 0.10
        let simulation = GossipSimulation(settings)
        simulation.run(until: 120 * Self.second)
        #expect(simulation.falseDeaths.isEmpty, "\(simulation.falseDeaths.prefix(5).map { "\($0)" })")
        #expect((0..<100).allSatisfy { observer in (0..<100).allSatisfy { simulation.status(of: $0, seenBy: observer)?.isActive == true } })
    }

    /// A member holding the fleet key gossips extreme and forged values about everyone, ten times a second, at 1 %
    /// loss: no member traps, no healthy member is declared dead, no address moves, and incarnations stay in range.
    @Test(arguments: [11, 12]) func aByzantineMemberCannotKillOrHijackHealthyOnes(seed: UInt64) {
        let count = 40
        var settings = GossipSimulation.Settings(members: count, seed: seed)
        settings.loss = 0.01
        let simulation = GossipSimulation(settings)
        let infos = simulation.cores.map(\.me.info)
        var generator = SplitMix64(seed: seed * 7)
        simulation.run(until: 5 * Self.second)
        let byzantine = 0
        let jump = settings.gossip.maximumIncarnationJump
        var time = 5 * Self.second
        while time < 65 * Self.second {
            time += Self.second / 10
            simulation.run(until: time)
            for _ in 0..<3 {
                let victim = Int.random(in: 1..<count, using: &generator)
                let known = simulation.cores[victim].me.incarnation
                var hijacked = infos[victim]
                hijacked.gossip = GossipAddress(host: "203.0.113.66", port: 7946)
                let updates: [GossipUpdate] = [
                    .suspect(name: infos[victim].name, incarnation: .max, from: infos[byzantine].name),
                    .dead(name: infos[victim].name, incarnation: .max, from: infos[byzantine].name),
                    .alive(hijacked, incarnation: known + jump, health: NodeHealth(loadScore: 1000)),
                    .alive(infos[victim], incarnation: .max, health: NodeHealth()),
                    .heartbeat(name: infos[victim].name, incarnation: known + jump + 1, health: NodeHealth()),
                    .suspect(name: infos[victim].name, incarnation: known + jump / 2, from: infos[byzantine].name),
                    .record(ClusterRecord(key: "emergency", epoch: .max, value: Array(repeating: 0xFF, count: 600))),
                ]
                let receiver = Int.random(in: 1..<count, using: &generator)
                simulation.forge(GossipMessage(sender: infos[Int.random(in: 0..<count, using: &generator)].name, kind: .gossip, updates: updates),
                                 from: byzantine, to: receiver)
            }
        }
        simulation.run(until: 75 * Self.second)
        #expect(simulation.falseDeaths.isEmpty, "\(simulation.falseDeaths.prefix(5).map { "\($0)" })")
        for observer in 1..<count {
            for member in simulation.cores[observer].members {
                #expect(member.info == infos[Int(member.info.name.dropFirst())!], "\(observer) holds \(member.info)")
                #expect(member.status == .alive && member.incarnation < UInt64.max / 2, "\(observer) holds \(member)")
            }
        }
        #expect(simulation.cores.map(\.counters.updatesRefused).reduce(0, +) > 1_000)
        #expect(simulation.recordSeen["emergency"] == nil, "an oversized record is never accepted")
    }

    @Test func aClusterRecordReachesEveryMemberThroughLoss() {
        var settings = GossipSimulation.Settings(members: 150, seed: 4)
        settings.loss = 0.25
        let simulation = GossipSimulation(settings)
        simulation.run(until: 5 * Self.second)
        simulation.publish(ClusterRecord(key: "emergency", epoch: 1, value: [1]), from: 42)
        simulation.run(until: 10 * Self.second)
        let seen = simulation.recordSeen["emergency"] ?? []
        #expect(seen.count == 150 && seen.allSatisfy { $0 != nil }, "\(seen.filter { $0 == nil }.count) members never got it")
        #expect((seen.compactMap { $0 }.max() ?? .max) - 5 * Self.second <= 4 * Self.second)
    }

    /// Issue 13's bound: an emergency flag (a record the size of a signed flag note) published at one of 1,000 members
    /// under 10 % loss reaches every member.
    @Test func anEmergencyFlagReachesAThousandMembersThroughTenPercentLoss() {
        var settings = GossipSimulation.Settings(members: 1_000, seed: 13)
        settings.loss = 0.10
        let simulation = GossipSimulation(settings)
        simulation.run(until: 10 * Self.second)
        let start = simulation.now
        simulation.publish(ClusterRecord(key: "emergency", epoch: 1, value: Array(repeating: 0x61, count: 420)), from: 500)
        simulation.run(until: start + 10 * Self.second)
        let seen = simulation.recordSeen["emergency"] ?? []
        let missing = seen.enumerated().filter { $0.element == nil }.map(\.offset)
        #expect(seen.count == 1_000 && missing.isEmpty, "\(missing.count) members never got it: \(missing.prefix(10))")
        let last = (seen.compactMap { $0 }.max() ?? .max) &- start
        #expect(last <= 5 * Self.second, "the last member got it \(Double(last) / 1e9) s after it was published")
    }

    @Test func aPartitionHealsToOneView() {
        let simulation = GossipSimulation(GossipSimulation.Settings(members: 80, seed: 5))
        simulation.run(until: 5 * Self.second)
        simulation.partition((0..<80).map { $0 < 30 ? 0 : 1 })
        simulation.run(until: 60 * Self.second)
        #expect(simulation.status(of: 70, seenBy: 3) == .dead, "each side gave the other up")
        simulation.heal()
        simulation.run(until: 240 * Self.second)
        let views = (0..<80).map { observer in (0..<80).filter { simulation.status(of: $0, seenBy: observer) == .alive }.count }
        #expect(views.allSatisfy { $0 == 80 }, "members seen alive per member: \(Set(views).sorted())")
    }

    /// CPU-stalled members (frozen 1–3 s now and then; on waking their timers fire before their inbox is read) must
    /// not get healthy members declared dead.
    @Test func stalledMembersDoNotKillHealthyOnes() {
        var settings = GossipSimulation.Settings(members: 100, seed: 6)
        settings.loss = 0.02
        let simulation = GossipSimulation(settings)
        var generator = SplitMix64(seed: 60)
        let stalled = Set((0..<100).shuffled(using: &generator).prefix(5))
        for second in 1...120 {
            simulation.run(until: UInt64(second) * Self.second)
            for member in stalled.sorted() where Int.random(in: 0..<10, using: &generator) == 0 {
                simulation.stall(member, for: UInt64.random(in: Self.second...(3 * Self.second), using: &generator))
            }
        }
        let healthyDeaths = simulation.falseDeaths.filter { !stalled.contains($0.target) }
        #expect(healthyDeaths.isEmpty, "\(healthyDeaths.prefix(5).map { "\($0)" })")
    }

    @Test func aRunReplaysFromItsSeed() {
        func run() -> ([Int], [[UInt64?]]) {
            var settings = GossipSimulation.Settings(members: 40, seed: 99)
            settings.loss = 0.05
            let simulation = GossipSimulation(settings)
            simulation.run(until: 5 * Self.second)
            simulation.crash(3)
            simulation.stall(9, for: 3 * Self.second)
            simulation.run(until: 30 * Self.second)
            return (simulation.bytesSent, simulation.deadSeen)
        }
        let first = run(), second = run()
        #expect(first.0 == second.0 && first.1 == second.1)
    }
}
