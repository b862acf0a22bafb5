import EdgeCache
import Testing
@testable import Gossip

/// Every transition of the core, driven by hand: messages are handed from one core to another explicitly.
@Suite struct GossipCoreTests {
    typealias Core = GossipCore<SplitMix64>
    static let second: UInt64 = 1_000_000_000
    static let names = ["a", "b", "c", "d", "e"]

    static func info(_ name: String) -> MemberInfo {
        MemberInfo(name: name, role: "edge", region: "r", latitude: 0, longitude: 0, http: "\(name):80",
                   gossip: GossipAddress(host: "10.0.0.\(names.firstIndex(of: name).map { $0 + 1 } ?? 99)", port: 7946))
    }

    static func cluster(_ settings: GossipSettings = GossipSettings(), validator: @escaping Core.RecordValidator = { _ in true }) -> [String: Core] {
        var cores: [String: Core] = [:]
        for (index, name) in names.enumerated() {
            var core = Core(info: info(name), seeds: [], settings: settings, generator: SplitMix64(seed: UInt64(index)), now: 0,
                            validator: validator)
            core.assume(names.map(info), now: 0)
            cores[name] = core
        }
        return cores
    }

    /// Cores that know each other only from gossip (no roster: anyone may join, as in the simulator's open mode).
    static func openCluster() -> [String: Core] {
        var cores: [String: Core] = [:]
        for (index, name) in names.enumerated() {
            var core = Core(info: info(name), seeds: [], settings: GossipSettings(), generator: SplitMix64(seed: UInt64(index)), now: 0)
            for other in names where other != name { _ = core.apply(.alive(info(other), incarnation: 0, health: NodeHealth()), now: 0) }
            cores[name] = core
        }
        return cores
    }

    /// A reload's roster: a member added is taken once it announces itself, a removed one is forgotten and refused,
    /// one whose description changed must announce the new one.
    @Test func aReplacedRosterAdmitsTheAddedAndForgetsTheRemoved() {
        var core = Core(info: Self.info("a"), seeds: [], generator: SplitMix64(seed: 1), now: 0)
        core.assume(["a", "b", "c"].map(Self.info), now: 0)
        let newcomer = MemberInfo(name: "f", role: "edge", region: "r", latitude: 1, longitude: 1, http: "f:80",
                                  gossip: GossipAddress(host: "10.0.0.9", port: 7946))
        _ = core.apply(.alive(newcomer, incarnation: 0, health: NodeHealth()), now: Self.second)
        #expect(core.member("f") == nil, "not in the roster yet: refused")
        var moved = Self.info("c")
        moved.gossip = GossipAddress(host: "10.0.0.33", port: 7946)
        let changes = core.replaceRoster([Self.info("a"), moved, newcomer], now: 2 * Self.second)
        #expect(core.member("b") == nil, "b was removed from the configuration")
        let removed = changes.compactMap { if case .memberChanged(let member, let previous) = $0 { (member.info.name, member.status, previous) } else { nil } }
        #expect(removed.count == 1 && removed[0].0 == "b" && removed[0].1 == .left && removed[0].2 == .alive, "\(removed)")
        #expect(core.member("c") == nil, "c's description changed: dropped until it announces it")
        let asked = Set(Self.sends(changes).map { $0.1 })
        #expect(asked == [newcomer.gossip, moved.gossip], "the added and the moved member are asked for their state at once")
        #expect(Self.sends(changes).allSatisfy { if case .sync(reply: false) = $0.0.kind { true } else { false } })
        _ = core.apply(.alive(Self.info("b"), incarnation: 5, health: NodeHealth()), now: 3 * Self.second, directFrom: "b")
        #expect(core.member("b") == nil, "a removed member's own word is refused")
        _ = core.apply(.alive(Self.info("c"), incarnation: 1, health: NodeHealth()), now: 3 * Self.second)
        #expect(core.member("c") == nil, "the old description of c is refused")
        _ = core.apply(.alive(moved, incarnation: 1, health: NodeHealth()), now: 3 * Self.second)
        _ = core.apply(.alive(newcomer, incarnation: 0, health: NodeHealth()), now: 3 * Self.second)
        #expect(core.member("c")?.info == moved && core.member("c")?.status == .alive)
        #expect(core.member("f")?.status == .alive, "the added member is taken once it announces itself")
    }

    static func sends(_ directives: [GossipDirective]) -> [(GossipMessage, GossipAddress)] {
        directives.compactMap { if case .send(let message, let address) = $0 { (message, address) } else { nil } }
    }

    static func name(at address: GossipAddress) -> String { names.first { info($0).gossip == address }! }

    /// Runs a's first probe; returns the target and the ping.
    static func firstProbe(_ cores: inout [String: Core]) -> (target: String, ping: GossipMessage) {
        let directives = cores["a"]!.tick(now: second)
        let (ping, address) = sends(directives).first { if case .ping = $0.0.kind { true } else { false } }!
        return (name(at: address), ping)
    }

    @Test func aPingIsAckedAndTheProbeSucceeds() {
        var cores = Self.cluster()
        let (target, ping) = Self.firstProbe(&cores)
        guard case .ping(let sequence, let named) = ping.kind else { Issue.record("not a ping"); return }
        #expect(named == target)
        let reply = Self.sends(cores[target]!.receive(ping, from: Self.info("a").gossip, now: Self.second + 1))
        #expect(reply.count == 1 && reply[0].0.kind == .ack(sequence: sequence) && reply[0].1 == Self.info("a").gossip)
        _ = cores["a"]!.receive(reply[0].0, from: Self.info(target).gossip, now: Self.second + 2)
        _ = cores["a"]!.tick(now: 3 * Self.second)
        #expect(cores["a"]!.member(target)?.status == .alive && cores["a"]!.localHealth == 0)
        #expect(cores["a"]!.counters.probesFailed == 0)
    }

    @Test func aPingForAnotherNameIsNotAnswered() {
        var cores = Self.cluster()
        let ping = GossipMessage(sender: "a", kind: .ping(sequence: 1, target: "somebody-else"))
        #expect(Self.sends(cores["b"]!.receive(ping, from: Self.info("a").gossip, now: 1)).isEmpty)
    }

    @Test func aSilentTargetIsProbedIndirectlyThenSuspected() {
        let settings = GossipSettings()
        var cores = Self.cluster(settings)
        let (target, _) = Self.firstProbe(&cores)
        // No ack: at the probe timeout a asks k = 3 helpers, and pings the target once more itself.
        let stage = Self.sends(cores["a"]!.tick(now: Self.second + settings.probeTimeout))
        let requests = stage.filter { if case .pingRequest = $0.0.kind { true } else { false } }
        #expect(requests.count == 3)
        #expect(stage.filter { if case .ping = $0.0.kind { true } else { false } }.map { Self.name(at: $0.1) } == [target])
        #expect(!requests.map { Self.name(at: $0.1) }.contains(target))
        // Each helper pings the target, hears nothing, and says so (nack) before the period ends.
        for (request, address) in requests {
            let helper = Self.name(at: address)
            let pings = Self.sends(cores[helper]!.receive(request, from: Self.info("a").gossip, now: Self.second + settings.probeTimeout + 1))
            #expect(pings.count == 1 && Self.name(at: pings[0].1) == target)
            let nacks = Self.sends(cores[helper]!.tick(now: Self.second + settings.probeTimeout + 400_000_000))
                .filter { if case .nack = $0.0.kind { true } else { false } }
            #expect(nacks.count == 1 && nacks[0].1 == Self.info("a").gossip)
            _ = cores["a"]!.receive(nacks[0].0, from: address, now: Self.second + 800_000_000)
        }
        let end = Self.sends(cores["a"]!.tick(now: 2 * Self.second))
        #expect(cores["a"]!.member(target)?.status == .suspect)
        #expect(cores["a"]!.counters.suspicionsRaised == 1 && cores["a"]!.counters.probesFailed == 1)
        #expect(cores["a"]!.localHealth == 0, "a failed probe, but every helper sent its nack: the target is the silent one")
        _ = end
    }

    /// Every other member says something to "a" directly, just before its first probe: all are heard from lately.
    static func heardFromEveryone(_ cores: inout [String: Core], at now: UInt64) {
        for name in names where name != "a" {
            _ = cores["a"]!.receive(GossipMessage(sender: name, kind: .gossip, updates: []), from: info(name).gossip, now: now)
        }
    }

    @Test func missingNacksPointAtTheProberItself() {
        var cores = Self.cluster()
        Self.heardFromEveryone(&cores, at: Self.second - 1)
        _ = Self.firstProbe(&cores)
        _ = cores["a"]!.tick(now: Self.second + 400_000_000)
        _ = cores["a"]!.tick(now: 2 * Self.second)
        #expect(cores["a"]!.localHealth == 3, "+1 for each of the k = 3 helpers that sent no nack")
        // The next probe's period and timeout are stretched by the multiplier: (LHM + 1) ×.
        let probe = cores["a"]!.probe
        #expect(probe?.end == 2 * Self.second + 4 * Self.second)
        #expect(probe?.directDeadline == 2 * Self.second + 4 * 400_000_000)
        // A successful probe brings it down by one.
        let target = probe!.target
        _ = cores["a"]!.receive(GossipMessage(sender: target, kind: .ack(sequence: probe!.sequence)), from: Self.info(target).gossip,
                                now: 2 * Self.second + 1)
        #expect(cores["a"]!.localHealth == 2)
    }

    /// After a mass failure most helpers picked are dead: helpers not heard from lately are not expected to nack, so
    /// their silence costs nothing while the node hears from someone; a node that hears from no one is penalized.
    @Test func silentHelpersNotHeardFromLatelyCostNothing() {
        var cores = Self.cluster()
        let (target, _) = Self.firstProbe(&cores)
        let someone = Self.names.first { $0 != "a" && $0 != target }!
        _ = cores["a"]!.receive(GossipMessage(sender: someone, kind: .gossip, updates: []), from: Self.info(someone).gossip,
                                now: Self.second + 1)
        _ = cores["a"]!.tick(now: Self.second + 400_000_000)
        _ = cores["a"]!.tick(now: 2 * Self.second)
        #expect(cores["a"]!.member(target)?.status == .suspect)
        #expect(cores["a"]!.localHealth <= 1, "only \(someone), heard from, could be expected to nack")
        var alone = Self.cluster()
        _ = Self.firstProbe(&alone)
        _ = alone["a"]!.tick(now: Self.second + 400_000_000)
        _ = alone["a"]!.tick(now: 2 * Self.second)
        #expect(alone["a"]!.localHealth == 1, "hearing from no one, a failed probe counts against this node")
    }

    @Test func aHelperRelaysTheTargetsAck() {
        var cores = Self.cluster()
        let (target, _) = Self.firstProbe(&cores)
        let (request, address) = Self.sends(cores["a"]!.tick(now: Self.second + 400_000_000))
            .first { if case .pingRequest = $0.0.kind { true } else { false } }!
        let helper = Self.name(at: address)
        let (helperPing, _) = Self.sends(cores[helper]!.receive(request, from: Self.info("a").gossip, now: Self.second + 500_000_000))[0]
        let (ack, _) = Self.sends(cores[target]!.receive(helperPing, from: Self.info(helper).gossip, now: Self.second + 510_000_000))[0]
        let relayed = Self.sends(cores[helper]!.receive(ack, from: Self.info(target).gossip, now: Self.second + 520_000_000))
        #expect(relayed.count == 1 && relayed[0].1 == Self.info("a").gossip)
        _ = cores["a"]!.receive(relayed[0].0, from: address, now: Self.second + 530_000_000)
        _ = cores["a"]!.tick(now: 2 * Self.second)
        #expect(cores["a"]!.member(target)?.status == .alive && cores["a"]!.counters.probesFailed == 0)
    }

    @Test func theSuspectRefutesAndEveryoneSeesItAlive() {
        var cores = Self.cluster()
        _ = cores["a"]!.apply(.suspect(name: "b", incarnation: 0, from: "a"), now: 10)
        // Buddy system: a's next packet to b carries the suspicion first.
        let ping = cores["a"]!.send(.ping(sequence: 9, target: "b"), to: Self.info("b").gossip, recipient: "b")
        guard case .send(let message, _) = ping else { Issue.record("no send"); return }
        #expect(message.updates.first == .suspect(name: "b", incarnation: 0, from: "a"))
        let reply = Self.sends(cores["b"]!.receive(message, from: Self.info("a").gossip, now: 20))
        #expect(cores["b"]!.me.incarnation == 1 && cores["b"]!.counters.refutations == 1 && cores["b"]!.localHealth == 1)
        #expect(reply[0].0.updates.contains { if case .heartbeat("b", 1, _) = $0 { true } else { false } },
                "the ack carries the refutation (a compact heartbeat: a knows b)")
        _ = cores["a"]!.receive(reply[0].0, from: Self.info("b").gossip, now: 30)
        #expect(cores["a"]!.member("b")?.status == .alive && cores["a"]!.member("b")?.incarnation == 1)
        #expect(cores["a"]!.counters.suspicionsCleared == 1)
        // An old suspicion (incarnation 0) no longer applies.
        _ = cores["a"]!.apply(.suspect(name: "b", incarnation: 0, from: "c"), now: 40)
        #expect(cores["a"]!.member("b")?.status == .alive)
    }

    /// A member whose own probe of a suspect fails adds its confirmation (and passes it on).
    @Test func aFailedProbeOfASuspectConfirms() {
        var cores = Self.cluster()
        let (target, _) = Self.firstProbe(&cores)
        _ = cores["a"]!.apply(.suspect(name: target, incarnation: 0, from: "x"), now: Self.second + 1)
        _ = cores["a"]!.tick(now: Self.second + 400_000_000)
        _ = cores["a"]!.tick(now: 2 * Self.second)
        #expect(cores["a"]!.suspicions[target]?.confirmations == ["x", "a"])
        #expect(cores["a"]!.counters.suspicionsRaised == 0, "not a new suspicion")
    }

    /// A suspicion reported by someone else makes the suspect this member's next probe, out of turn.
    @Test func aReportedSuspectIsProbedNext() {
        var cores = Self.cluster()
        _ = cores["a"]!.apply(.suspect(name: "d", incarnation: 0, from: "b"), now: 1)
        let (target, ping) = Self.firstProbe(&cores)
        #expect(target == "d")
        #expect(ping.updates.first == .suspect(name: "d", incarnation: 0, from: "a"), "and the ping tells d it is suspected")
    }

    @Test func confirmationsShrinkTheSuspicionTimeout() {
        let cores = Self.cluster()
        let core = cores["a"]!
        let timeouts = (1...5).map { core.suspicionTimeout(confirmations: $0, members: 100) }
        #expect(timeouts == timeouts.sorted(by: >), "more confirmations, shorter wait: \(timeouts)")
        #expect(timeouts[0] == UInt64(4.5 * 2 * Double(Self.second)), "maximum at n = 100")
        #expect(timeouts[3] == UInt64(GossipSettings().suspicionMinimumPeriods * 2 * Double(Self.second)) && timeouts[4] == timeouts[3], "minimum after K = 3 confirmations")
        // Declared dead at the minimum with confirmations, only at the maximum without.
        var confirmed = cores["a"]!, alone = cores["a"]!
        for from in ["a", "c", "d", "e"] { _ = confirmed.apply(.suspect(name: "b", incarnation: 0, from: from), now: 0) }
        _ = alone.apply(.suspect(name: "b", incarnation: 0, from: "a"), now: 0)
        let minimum = confirmed.suspicionTimeout(confirmations: 4, members: 5)
        _ = confirmed.tick(now: minimum)
        _ = alone.tick(now: minimum)
        #expect(confirmed.member("b")?.status == .dead && confirmed.counters.deathsDeclared == 1)
        #expect(alone.member("b")?.status == .suspect)
        // Alone, at the maximum it checks b first (see aWeaklyConfirmedSuspicionIsCheckedBeforeADeath), then gives up.
        let maximum = alone.suspicionTimeout(confirmations: 1, members: 5)
        _ = alone.tick(now: maximum)
        #expect(alone.member("b")?.status == .suspect)
        _ = alone.tick(now: maximum + GossipSettings().probeInterval)
        #expect(alone.member("b")?.status == .dead)
    }

    /// A suspicion that only another member raised is checked by this node before it becomes a death: pings (carrying
    /// the suspicion) and ping-reqs at the timeout; an answer keeps the member; silence for a period makes it dead.
    @Test func aWeaklyConfirmedSuspicionIsCheckedBeforeADeath() {
        var cores = Self.cluster()
        _ = cores["a"]!.apply(.suspect(name: "b", incarnation: 0, from: "c"), now: 0)
        let timeout = cores["a"]!.suspicionTimeout(confirmations: 1, members: 5)
        let check = Self.sends(cores["a"]!.tick(now: timeout))
        // (b is also a's next probe, out of turn: that ping has a sequence of its own.)
        let sequences = check.compactMap { if case .ping(let sequence, "b") = $0.0.kind { sequence } else { nil } }
        let checkSequence = try! #require(sequences.first { sequence in sequences.filter { $0 == sequence }.count == 2 })
        let pings = check.filter { $0.0.kind == .ping(sequence: checkSequence, target: "b") }
        #expect(pings.count == 2 && pings.allSatisfy { $0.1 == Self.info("b").gossip })
        #expect(pings[0].0.updates.first == .suspect(name: "b", incarnation: 0, from: "a"), "the check tells b it is suspected")
        #expect(check.filter { if case .pingRequest = $0.0.kind { true } else { false } }.count == 3)
        #expect(cores["a"]!.member("b")?.status == .suspect, "not dead on the timeout alone")
        // b answers: its ack carries the refutation, and b is alive again.
        var silent = cores["a"]!
        let answer = Self.sends(cores["b"]!.receive(pings[0].0, from: Self.info("a").gossip, now: timeout + 1))
        for (message, _) in answer where message.kind != .gossip { _ = cores["a"]!.receive(message, from: Self.info("b").gossip, now: timeout + 2) }
        #expect(cores["a"]!.member("b")?.status == .alive && cores["a"]!.counters.deathsDeclared == 0)
        // Nothing answers: dead one period after the check.
        _ = silent.tick(now: timeout + GossipSettings().probeInterval - 1)
        #expect(silent.member("b")?.status == .suspect)
        _ = silent.tick(now: timeout + GossipSettings().probeInterval)
        #expect(silent.member("b")?.status == .dead && silent.counters.deathsDeclared == 1)
    }

    @Test func precedenceDeadOverridesAliveAtTheSameIncarnationAndAHigherOneRevives() {
        var cores = Self.cluster()
        _ = cores["a"]!.apply(.dead(name: "b", incarnation: 0, from: "c"), now: 1)
        #expect(cores["a"]!.member("b")?.status == .dead)
        _ = cores["a"]!.apply(.alive(Self.info("b"), incarnation: 0, health: NodeHealth()), now: 2)
        #expect(cores["a"]!.member("b")?.status == .dead, "not at the same incarnation")
        _ = cores["a"]!.apply(.alive(Self.info("b"), incarnation: 1, health: NodeHealth()), now: 3)
        #expect(cores["a"]!.member("b")?.status == .alive)
        // Declared dead itself, a live member refutes.
        _ = cores["b"]!.apply(.dead(name: "b", incarnation: 0, from: "c"), now: 4)
        #expect(cores["b"]!.me.incarnation == 1 && cores["b"]!.me.status == .alive)
    }

    @Test func recordsConvergeOnTheHighestEpochAndTheValidatorRules() {
        var cores = Self.cluster(validator: { $0.signature == [1] })
        let first = ClusterRecord(key: "emergency", epoch: 2, value: [1], signature: [1])
        #expect(cores["a"]!.publish(first, now: 1).contains(.recordChanged(first)))
        _ = cores["a"]!.apply(.record(ClusterRecord(key: "emergency", epoch: 1, value: [0], signature: [1])), now: 2)
        #expect(cores["a"]!.records["emergency"] == first, "a lower epoch loses")
        _ = cores["a"]!.apply(.record(ClusterRecord(key: "emergency", epoch: 9, value: [0], signature: [2])), now: 3)
        #expect(cores["a"]!.records["emergency"] == first && cores["a"]!.counters.recordsRejected == 1, "unsigned: rejected")
        let later = ClusterRecord(key: "emergency", epoch: 3, value: [0], signature: [1])
        _ = cores["a"]!.apply(.record(later), now: 4)
        #expect(cores["a"]!.records["emergency"] == later)
        // Issue 24 (5): at the same epoch, other bytes (larger or smaller) never replace the record in force.
        for variant in [[0, 0xFF], [0xFF], [] as [UInt8]] {
            _ = cores["a"]!.apply(.record(ClusterRecord(key: "emergency", epoch: 3, value: variant, signature: [1])), now: 5)
            #expect(cores["a"]!.records["emergency"] == later, "value \(variant) at the same epoch")
        }
        #expect(!ClusterRecord(key: "k", epoch: 3, value: [9], signature: [9]).supersedes(later))
        #expect(ClusterRecord(key: "k", epoch: 4, value: [], signature: []).supersedes(later))
    }

    /// memberlist #299: a flood of membership churn must not starve cluster records.
    @Test func thePriorityLaneCarriesRecordsThroughAFlood() {
        var cores = Self.openCluster()
        for index in 0..<400 {
            let info = MemberInfo(name: "flood-\(index)-with-a-long-name", role: "edge", region: "somewhere-far", latitude: 1, longitude: 2,
                                  http: "192.168.100.\(index % 250):8080", gossip: GossipAddress(host: "192.168.100.\(index % 250)", port: 7946))
            _ = cores["a"]!.apply(.alive(info, incarnation: 1, health: NodeHealth()), now: 1)
        }
        let record = ClusterRecord(key: "emergency", epoch: 1, value: Array(repeating: 1, count: 200), signature: Array(repeating: 2, count: 64))
        _ = cores["a"]!.publish(record, now: 2)
        let packets = Self.sends(cores["a"]!.tick(now: Self.second))
        let gossip = packets.filter { $0.0.kind == .gossip }
        #expect(!gossip.isEmpty)
        #expect(packets.allSatisfy { $0.0.updates.contains(.record(record)) }, "every packet carries the record first")
        for (message, _) in packets {
            #expect(WireCodec.encode(message).count + PacketSealer.overhead <= 1_400, "within the packet budget")
        }
        #expect(gossip.allSatisfy { $0.0.updates.count > 5 }, "and member updates fill the rest")
    }

    @Test func aNewNodeJoinsThroughASeed() {
        var cores = Self.openCluster()
        let newcomer = MemberInfo(name: "z", role: "mesh", region: "r", latitude: 0, longitude: 0, http: "z:80",
                                  gossip: GossipAddress(host: "10.0.0.50", port: 7946))
        var z = Core(info: newcomer, seeds: [Self.info("a").gossip, newcomer.gossip], settings: GossipSettings(),
                     generator: SplitMix64(seed: 9), now: 0)
        let hello = Self.sends(z.start(now: 0))
        #expect(hello.count == 1 && hello[0].1 == Self.info("a").gossip, "its own address is not a seed")
        let pages = Self.sends(cores["a"]!.receive(hello[0].0, from: newcomer.gossip, now: 1))
        #expect(cores["a"]!.member("z")?.status == .alive)
        #expect(pages.allSatisfy { $0.0.kind == .sync(reply: true) })
        for (page, _) in pages { _ = z.receive(page, from: Self.info("a").gossip, now: 2) }
        #expect(z.members.map(\.info.name) == ["a", "b", "c", "d", "e", "z"])
    }

    @Test func aLeavingNodeIsNotProbedOrSuspected() {
        var cores = Self.cluster()
        let goodbye = Self.sends(cores["c"]!.leave(now: 5))
        #expect(!goodbye.isEmpty && goodbye.allSatisfy { $0.0.updates == [.left(name: "c", incarnation: 0)] })
        _ = cores["a"]!.receive(goodbye[0].0, from: Self.info("c").gossip, now: 6)
        #expect(cores["a"]!.member("c")?.status == .left && cores["a"]!.activeCount == 4)
        _ = cores["a"]!.apply(.suspect(name: "c", incarnation: 0, from: "b"), now: 7)
        #expect(cores["a"]!.member("c")?.status == .left)
    }

    @Test func aHeartbeatUpdatesOnlyAKnownMemberAndNeverHidesItsDescription() {
        var cores = Self.cluster()
        _ = cores["a"]!.apply(.heartbeat(name: "stranger", incarnation: 5, health: NodeHealth()), now: 1)
        #expect(cores["a"]!.member("stranger") == nil, "nothing to attach it to")
        _ = cores["a"]!.apply(.suspect(name: "b", incarnation: 0, from: "c"), now: 2)
        _ = cores["a"]!.apply(.heartbeat(name: "b", incarnation: 1, health: NodeHealth(loadScore: 7)), now: 3)
        #expect(cores["a"]!.member("b")?.status == .alive && cores["a"]!.member("b")?.health.loadScore == 7)
        #expect(cores["a"]!.member("b")?.info == Self.info("b"), "the description is kept")
        // A queued full announcement absorbs a later heartbeat instead of being replaced by it.
        var queue = DisseminationQueue()
        queue.enqueue(.alive(Self.info("z"), incarnation: 0, health: NodeHealth()))
        queue.enqueue(.heartbeat(name: "z", incarnation: 1, health: NodeHealth(loadScore: 9)))
        #expect(queue.take(budget: 1_000, recordShare: 0.5, memberLimit: 4, recordLimit: 8)
                == [.alive(Self.info("z"), incarnation: 1, health: NodeHealth(loadScore: 9))])
    }

    /// How long a member has been alive counts from when it became alive (joined, or refuted a suspicion), not from
    /// its latest health announcement: routing's recovery time must not restart at every heartbeat.
    @Test func statusSinceMovesOnlyWithTheStatus() {
        var cores = Self.cluster()
        #expect(cores["a"]!.member("b")?.statusSince == 0)
        _ = cores["a"]!.apply(.heartbeat(name: "b", incarnation: 1, health: NodeHealth(loadScore: 7)), now: 5)
        #expect(cores["a"]!.member("b")?.statusSince == 0 && cores["a"]!.member("b")?.changedAt == 5)
        _ = cores["a"]!.apply(.suspect(name: "b", incarnation: 1, from: "c"), now: 6)
        #expect(cores["a"]!.member("b")?.statusSince == 6)
        _ = cores["a"]!.apply(.heartbeat(name: "b", incarnation: 2, health: NodeHealth(loadScore: 8)), now: 7)
        _ = cores["a"]!.apply(.heartbeat(name: "b", incarnation: 3, health: NodeHealth(loadScore: 9)), now: 8)
        #expect(cores["a"]!.member("b")?.status == .alive && cores["a"]!.member("b")?.statusSince == 7)
    }

    @Test func smallHealthChangesWaitForTheRefreshInterval() {
        var cores = Self.cluster()
        _ = cores["a"]!.setHealth(NodeHealth(activeConnections: 2, loadScore: 10), now: 1)
        _ = cores["a"]!.tick(now: Self.second)
        #expect(cores["a"]!.me.incarnation == 0, "two connections more: not worth a new incarnation yet")
        _ = cores["a"]!.setHealth(NodeHealth(activeConnections: 2, loadScore: 10), now: 31 * Self.second)
        _ = cores["a"]!.tick(now: 31 * Self.second)
        #expect(cores["a"]!.me.incarnation == 1 && cores["a"]!.me.health.activeConnections == 2, "announced at the refresh")
        #expect(NodeHealth.differsSignificantly(NodeHealth(egressBytesPerSecond: 10_000_000), NodeHealth(egressBytesPerSecond: 13_000_000)))
        #expect(!NodeHealth.differsSignificantly(NodeHealth(egressBytesPerSecond: 100), NodeHealth(egressBytesPerSecond: 900_000)))
    }

    @Test func healthChangesAreAnnouncedWithANewIncarnation() {
        var cores = Self.cluster()
        let health = NodeHealth(activeConnections: 10, egressBytesPerSecond: 5_000_000, cacheHitPermille: 900, loadScore: 300)
        _ = cores["a"]!.setHealth(health, now: 1)
        let packets = Self.sends(cores["a"]!.tick(now: Self.second))
        #expect(cores["a"]!.me.incarnation == 1 && cores["a"]!.me.health == health)
        let announcement = packets.first { $0.0.kind == .gossip }!
        _ = cores["b"]!.receive(announcement.0, from: Self.info("a").gossip, now: Self.second + 1)
        #expect(cores["b"]!.member("a")?.health == health)
    }
}
