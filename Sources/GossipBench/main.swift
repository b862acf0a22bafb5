import EdgeCache
import Foundation
import Gossip
import GossipSimulation

// bench/gossip.sh, simulator part: a 1,000-member cluster in the deterministic simulator.
//   gossip-bench record [MEMBERS] [SEEDS]        time for a cluster record (flag-sized) to reach 99 % / 99.99 % / 100 % of members
//                                                 at 0 % and 25 % loss, and traffic per member over the 70 s after it
//                                                 was published
//   gossip-bench false-positives [MEMBERS] [MINUTES]
//                                                 false deaths over simulated minutes at 10 % loss with 5 % of members
//                                                 CPU-stalled, local health multiplier on and off
//   gossip-bench detection [MEMBERS] [TRIALS]     time from a member's crash until every other member has declared
//                                                 it dead, at 0 % and 10 % loss (one seeded cluster per trial)

let second: UInt64 = 1_000_000_000
let arguments = CommandLine.arguments.dropFirst()

func percentileTime(_ seen: [UInt64?], _ fraction: Double, from start: UInt64) -> Double? {
    let times = seen.compactMap { $0 }.sorted()
    let needed = Int((Double(seen.count) * fraction).rounded(.up))
    guard times.count >= needed, needed > 0 else { return nil }
    return Double(times[needed - 1] - start) / 1e9
}

func format(_ value: Double?) -> String { value.map { String(format: "%.2f s", $0) } ?? "never" }

switch arguments.first {
case "record":
    let members = arguments.dropFirst().first.flatMap(Int.init) ?? 1_000
    let seeds = arguments.dropFirst(2).first.flatMap(Int.init) ?? 3
    print("members \(members), gossip every 200 ms to 3, packets ≤ 1400 B (sealing included)")
    for loss in [0.0, 0.25] {
        for seed in 1...seeds {
            var settings = GossipSimulation.Settings(members: members, seed: UInt64(seed))
            settings.loss = loss
            let simulation = GossipSimulation(settings)
            simulation.run(until: 10 * second)
            let before = simulation.bytesSent.reduce(0, +)
            let start = simulation.now
            // The size of a signed emergency flag note (the signature is inside it).
            simulation.publish(ClusterRecord(key: "emergency", epoch: 1, value: Array(repeating: 0x61, count: 420)), from: 0)
            // 70 s: the window includes every member's anti-entropy exchange (once a minute at n = 1,000).
            simulation.run(until: start + 70 * second)
            let seen = simulation.recordSeen["emergency"] ?? []
            let bytes = simulation.bytesSent.reduce(0, +) - before
            let kbits = Double(bytes) * 8 / 1000 / 70 / Double(members)
            let counters = simulation.cores.reduce(into: (suspicions: 0, deaths: 0, refutations: 0)) {
                $0.suspicions += $1.counters.suspicionsRaised
                $0.deaths += $1.counters.deathsDeclared
                $0.refutations += $1.counters.refutations
            }
            let kinds = simulation.traffic.sorted { $0.value.bytes > $1.value.bytes }
                .map { "\($0.key) \($0.value.bytes * 8 / 1000 / 80 / members) kbit/s" }.joined(separator: ", ")
            print("  over the whole run: \(kinds); suspicions \(counters.suspicions), refutations \(counters.refutations), deaths \(counters.deaths)")
            print(String(format: "loss %2.0f %%  seed %d  99 %%: %@  99.99 %%: %@  100 %%: %@  traffic %.1f kbit/s per member",
                         loss * 100, seed, format(percentileTime(seen, 0.99, from: start)), format(percentileTime(seen, 0.9999, from: start)),
                         format(percentileTime(seen, 1.0, from: start)), kbits))
        }
    }
case "false-positives":
    let members = arguments.dropFirst().first.flatMap(Int.init) ?? 1_000
    let minutes = arguments.dropFirst(2).first.flatMap(UInt64.init) ?? 10
    print("members \(members), \(minutes) simulated minutes, 10 % loss, 5 % of members stalled 1–4 s every ~10 s")
    for lhm in [true, false] {
        var settings = GossipSimulation.Settings(members: members, seed: 7)
        settings.loss = 0.10
        settings.gossip.localHealthEnabled = lhm
        let simulation = GossipSimulation(settings)
        var generator = SplitMix64(seed: 11)
        let stalled = Array((0..<members).shuffled(using: &generator).prefix(max(1, members / 20)))
        var time: UInt64 = 0
        let end = minutes * 60 * second
        while time < end {
            time += second
            simulation.run(until: time)
            for member in stalled where UInt64.random(in: 0..<10, using: &generator) == 0 {
                simulation.stall(member, for: UInt64.random(in: second...(4 * second), using: &generator))
            }
        }
        let stalledSet = Set(stalled)
        let aboutHealthy = simulation.falseDeaths.filter { !stalledSet.contains($0.target) }
        let byStalled = aboutHealthy.filter { stalledSet.contains($0.observer) }
        let kbits = Double(simulation.bytesSent.reduce(0, +)) * 8 / 1000 / Double(end / second) / Double(members)
        print(String(format: "local health %@: false deaths %d (of healthy members: %d, declared by stalled ones: %d), traffic %.1f kbit/s per member",
                     lhm ? "on " : "off", simulation.falseDeaths.count, aboutHealthy.count, byStalled.count, kbits))
    }
case "detection":
    let members = arguments.dropFirst().first.flatMap(Int.init) ?? 32
    let trials = arguments.dropFirst(2).first.flatMap(Int.init) ?? 100
    print("members \(members), \(trials) trials, probe interval 1 s: crash one member after 20 s, time until all others declare it dead")
    for loss in [0.0, 0.10] {
        var times: [Double] = []
        var falseDeaths = 0
        var suspectTimes: [Double] = [], firstDead: [Double] = []
        for trial in 0..<trials {
            var settings = GossipSimulation.Settings(members: members, seed: UInt64(1_000 + trial))
            settings.loss = loss
            let simulation = GossipSimulation(settings)
            let crashAt = 20 * second + UInt64(trial) * 37_000_000 % second
            simulation.run(until: crashAt)
            let victim = trial % members
            simulation.crash(victim)
            var step = crashAt
            var firstSuspect: UInt64?
            while step < crashAt + 30 * second {
                step += 50_000_000
                simulation.run(until: step)
                if firstSuspect == nil, (0..<members).contains(where: { $0 != victim && simulation.status(of: victim, seenBy: $0) != .alive }) {
                    firstSuspect = step - crashAt
                }
            }
            suspectTimes.append(Double(firstSuspect ?? 0) / 1e9)
            firstDead.append((0..<members).compactMap { $0 == victim ? nil : simulation.deadSeen[$0][victim] }.min()
                .map { Double($0 - crashAt) / 1e9 } ?? .infinity)
            let seen = (0..<members).filter { $0 != victim }.map { simulation.deadSeen[$0][victim] }
            falseDeaths += simulation.falseDeaths.count
            times.append(seen.contains(where: { $0 == nil }) ? .infinity : Double(seen.compactMap { $0 }.max()! - crashAt) / 1e9)
        }
        times.sort()
        suspectTimes.sort(); firstDead.sort()
        print(String(format: "loss %2.0f %%: first suspicion median %.2f s, max %.2f s; first death median %.2f s, max %.2f s", loss * 100,
                     suspectTimes[trials / 2], suspectTimes.last!, firstDead[trials / 2], firstDead.last!))
        func at(_ fraction: Double) -> String { format(times[min(times.count - 1, Int(Double(times.count) * fraction))]) }
        print(String(format: "loss %2.0f %%: median %@  p90 %@  p99 %@  max %@  false deaths %d", loss * 100,
                     at(0.5), at(0.9), at(0.99), format(times.last), falseDeaths))
    }
default:
    print("usage: gossip-bench record [MEMBERS] [SEEDS] | false-positives [MEMBERS] [MINUTES] | detection [MEMBERS] [TRIALS]")
    exit(2)
}
