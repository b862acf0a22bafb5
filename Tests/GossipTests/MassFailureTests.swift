import Gossip
import GossipSimulation
import Testing

/// Emergency mode's premise: the origin and the edges (a third of the fleet and more) are cut off at once. The
/// survivors must still find every one of them dead quickly, although most helpers they pick for indirect probes at
/// first are among the dead.
@Suite struct MassFailureTests {
    static let second: UInt64 = 1_000_000_000

    @Test func survivorsFindAMassFailureQuickly() {
        var worst: [Double] = []
        for seed in 1...5 {
            let simulation = GossipSimulation(GossipSimulation.Settings(members: 32, seed: UInt64(seed)))
            simulation.run(until: 10 * Self.second)
            let dead = Array(0..<14)
            for member in dead { simulation.crash(member) }
            let start = simulation.now
            simulation.run(until: start + 60 * Self.second)
            var last: UInt64 = 0
            for observer in 14..<32 {
                for target in dead {
                    last = max(last, (simulation.deadSeen[observer][target] ?? .max) &- start)
                }
            }
            worst.append(Double(last) / 1e9)
        }
        print("mass failure, 14 of 32 crashed: every survivor saw every one dead after \(worst) s")
        #expect(worst.allSatisfy { $0 <= 15 }, "\(worst)")
    }
}
