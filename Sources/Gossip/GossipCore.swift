import Foundation

/// SWIM membership with Lifeguard, as a pure state machine: no sockets, no clock, no global randomness. Every input
/// (a tick, a received message, a health change, a record to publish) takes the current time and returns
/// directives — messages to send, when to tick next, what changed. The same core runs in the deterministic
/// simulator and behind the daemon's UDP shell.
///
/// - Failure detection: one probe per protocol period in shuffled round-robin order; no ack within the timeout →
///   `ping-req` through k helpers (which answer `nack` when the target is silent too) and a second direct ping; no
///   ack by the end of the period → the target is suspected.
/// - Suspicion: the member is told (buddy system: every packet to a suspect carries the suspicion) and refutes by
///   raising its incarnation; otherwise it is declared dead after a timeout that shrinks from its maximum to its
///   minimum as independent confirmations arrive (Lifeguard).
/// - Local health: missing nacks (a failed probe without helpers) and refuting raise a saturating multiplier that
///   stretches this node's probe interval and timeouts, so a slow node stops accusing healthy ones; successful probes
///   lower it.
/// - Dissemination: updates ride on every message and on gossip rounds to random members, each sent
///   λ·ceil(log10(n+1)) times, packed into a byte budget with a reserved share for cluster records.
/// - Anti-entropy: the full state is exchanged with one random member per interval (sometimes a dead one, so that
///   partitions heal), which is also how a node joins through its seeds.
public struct GossipCore<Generator: RandomNumberGenerator & Sendable>: Sendable {
    public typealias RecordValidator = @Sendable (ClusterRecord) -> Bool

    struct Probe: Sendable {
        let target: String
        let sequence: UInt32
        let directDeadline: UInt64
        let end: UInt64
        var indirectSent = false
        var expectedNacks = 0
        /// Helpers asked (some of which may not be expected to nack).
        var helpers = 0
        var nacks = 0
    }

    struct Relay: Sendable {
        let origin: GossipAddress
        let originSequence: UInt32
        let deadline: UInt64
    }

    struct Suspicion: Sendable {
        let start: UInt64
        /// The first member to suspect (passed on in anti-entropy, so that a sync is not taken as a confirmation).
        let accuser: String
        var confirmations: Set<String>
        /// This node's own check of a weakly confirmed suspect is out until then (see `expireSuspicions`).
        var checkedUntil: UInt64?
    }

    public let settings: GossipSettings
    /// This node as it announces itself.
    public internal(set) var me: Member
    /// Members as the fleet's configuration describes them (empty: any member may join with any description).
    private(set) var roster: [String: MemberInfo] = [:]
    /// Every other member; change it only through `store` and `forget`, which keep `activeNames` in step.
    private(set) var others: [String: Member] = [:]
    /// Alive and suspected members other than this node, sorted (a stable base for seeded random choices).
    private(set) var activeNames: [String] = []
    var generator: Generator
    var order = ProbeSchedule()
    /// Changes whenever `activeNames` does (the probe schedule is rebuilt then).
    var membershipVersion: UInt64 = 0
    /// The wall clock minus `now`, in nanoseconds: probe slots are counted on the wall clock (see `ProbeSchedule`).
    /// Set by the shell; 0 in a simulation, whose clock every member shares.
    public var clockOffset: Int64 = 0
    var queue = DisseminationQueue()
    public internal(set) var records: [String: ClusterRecord] = [:]
    let validator: RecordValidator
    /// Lifeguard's local health multiplier (0...S).
    public internal(set) var localHealth = 0
    var probe: Probe?
    var relays: [UInt32: Relay] = [:]
    var suspicions: [String: Suspicion] = [:]
    /// Pings checking a suspect before it is declared dead, by sequence.
    var checks: [UInt32: String] = [:]
    var sequence: UInt32 = 0
    var nextProbeAt: UInt64
    var nextGossipAt: UInt64
    var nextSyncAt: UInt64
    var nextHealthAt: UInt64
    var pendingHealth: NodeHealth?
    let seeds: [GossipAddress]
    var leaving = false
    /// When this node last answered each stale accuser directly (see `tellAccuser`).
    var toldAccusers: [String: UInt64] = [:]
    /// When each member last sent this node a message itself, from its roster address (uptime ns): a helper that has
    /// not been heard from lately says nothing about this node's own network when it stays silent.
    var lastHeard: [String: UInt64] = [:]
    public internal(set) var counters = GossipCounters()

    /// A node described by `info`, joining through `seeds` (its own address among them is ignored). `now` is the
    /// current uptime in nanoseconds.
    public init(info: MemberInfo, seeds: [GossipAddress], settings: GossipSettings = GossipSettings(), generator: Generator,
                now: UInt64, validator: @escaping RecordValidator = { _ in true }) {
        self.settings = settings
        self.generator = generator
        self.validator = validator
        self.seeds = seeds.filter { $0 != info.gossip }
        me = Member(info: info, incarnation: 0, status: .alive, health: NodeHealth(), changedAt: now)
        nextProbeAt = now + settings.probeInterval
        nextGossipAt = now + settings.gossipInterval
        // The first exchange at a random point of the interval, so that a fleet started together does not sync in step.
        nextSyncAt = now + UInt64.random(in: 1...settings.antiEntropyInterval, using: &self.generator)
        nextHealthAt = now
    }

    /// Everyone this node knows, itself included, by name.
    public var members: [Member] { ([me] + others.values).sorted { $0.info.name < $1.info.name } }

    /// Alive and suspected members, this node included (n in the formulas).
    public var activeCount: Int { 1 + activeNames.count }

    mutating func store(_ member: Member) {
        let name = member.info.name
        let wasActive = others[name]?.status.isActive ?? false
        var member = member
        if let previous = others[name], previous.status == member.status {
            member.statusSince = previous.statusSince
        } else {
            member.statusSince = member.changedAt
        }
        others[name] = member
        guard wasActive != member.status.isActive else { return }
        membershipVersion += 1
        let index = activeNames.partitioningIndex(where: { $0 >= name })
        if member.status.isActive {
            activeNames.insert(name, at: index)
        } else if index < activeNames.count && activeNames[index] == name {
            activeNames.remove(at: index)
        }
    }

    mutating func forget(_ name: String) {
        if let member = others[name], member.status.isActive {
            store(Member(info: member.info, incarnation: member.incarnation, status: .dead, health: member.health, changedAt: member.changedAt))
        }
        others[name] = nil
    }

    /// One member's state.
    public func member(_ name: String) -> Member? { name == me.info.name ? me : others[name] }

    /// Members known before any gossip (from the fleet's configuration): taken as alive at incarnation 0 and probed
    /// like any other, without being announced (each announces itself). They form the roster: from then on only
    /// these members are accepted, each with exactly this description (address, role, location), whoever gossips
    /// otherwise.
    public mutating func assume(_ infos: [MemberInfo], now: UInt64) {
        for info in infos { roster[info.name] = info }
        for info in infos where info.name != me.info.name && others[info.name] == nil {
            store(Member(info: info, incarnation: 0, status: .alive, health: NodeHealth(), changedAt: now))
        }
    }

    /// The fleet's configuration changed (a reload): `infos` becomes the roster. A member added or redescribed is
    /// asked for its state at once and accepted when it answers (it is not assumed alive: it may not run yet); a
    /// member whose description changed is dropped until then; a member removed is forgotten at once (no longer
    /// probed, routed to, or believed: its updates are refused from now on) and reported as left.
    public mutating func replaceRoster(_ infos: [MemberInfo], now: UInt64) -> [GossipDirective] {
        let updated = Dictionary(infos.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var directives: [GossipDirective] = []
        for (name, member) in others where name != me.info.name && updated[name] != member.info {
            suspicions[name] = nil
            lastHeard[name] = nil
            forget(name)
            if updated[name] == nil {
                directives.append(.memberChanged(Member(info: member.info, incarnation: member.incarnation, status: .left, health: member.health,
                                                        changedAt: now), previous: member.status))
            }
        }
        // Asked for its state at once (a push-pull sync), rather than at a sync of its own some time from now.
        for (name, info) in updated.sorted(by: { $0.key < $1.key }) where name != me.info.name && roster[name] != info {
            directives += syncPages(to: info.gossip, reply: false)
        }
        roster = updated
        return directives
    }

    /// Joins: announces this node to the seeds and asks for their state.
    public mutating func start(now: UInt64) -> [GossipDirective] {
        queue.enqueue(selfUpdate)
        return askSeeds() + [.scheduleTick(at: nextDeadline)]
    }

    /// Asks the seeds for their state again (a node that started before its seeds, or whose first request was lost,
    /// need not wait for anti-entropy to join).
    public mutating func askSeeds() -> [GossipDirective] {
        seeds.flatMap { syncPages(to: $0, reply: false) }
    }

    /// This node's health changed; a significant change is announced at the next health interval (with a new
    /// incarnation), a small one only once `healthRefreshInterval` has passed since the last announcement.
    public mutating func setHealth(_ health: NodeHealth, now: UInt64) -> [GossipDirective] {
        guard health != me.health else { return [] }
        guard NodeHealth.differsSignificantly(me.health, health) || now.elapsed(since: me.changedAt) >= settings.healthRefreshInterval else { return [] }
        pendingHealth = health
        return [.scheduleTick(at: nextDeadline)]
    }

    /// Publishes a cluster record (it must pass the validator like any received one).
    public mutating func publish(_ record: ClusterRecord, now: UInt64) -> [GossipDirective] {
        apply(.record(record), now: now) + [.scheduleTick(at: nextDeadline)]
    }

    /// Graceful leave: tells a few members directly and gossips it; the shell should keep running for a few gossip
    /// intervals so that it spreads.
    public mutating func leave(now: UInt64) -> [GossipDirective] {
        leaving = true
        me.status = .left
        me.changedAt = now
        let update = GossipUpdate.left(name: me.info.name, incarnation: me.incarnation)
        queue.enqueue(update)
        var directives: [GossipDirective] = []
        for target in randomActive(count: settings.gossipFanout * 2, excluding: []) {
            directives.append(.send(GossipMessage(sender: me.info.name, kind: .gossip, updates: [update]), to: target.info.gossip))
        }
        return directives
    }

    /// When `tick` must be called next.
    public var nextDeadline: UInt64 {
        var deadline = min(nextProbeAt, nextGossipAt, nextSyncAt)
        if pendingHealth != nil { deadline = min(deadline, nextHealthAt) }
        if let probe {
            deadline = min(deadline, probe.indirectSent ? probe.end : probe.directDeadline)
        }
        for relay in relays.values { deadline = min(deadline, relay.deadline) }
        let n = activeCount
        for suspicion in suspicions.values {
            deadline = min(deadline, suspicion.checkedUntil ?? suspicion.start + suspicionTimeout(confirmations: suspicion.confirmations.count, members: n))
        }
        return deadline
    }

    /// Drives every timer that is due.
    public mutating func tick(now: UInt64) -> [GossipDirective] {
        guard !leaving else { return gossipRound(now: now) }
        var directives: [GossipDirective] = []
        directives += expireRelays(now: now)
        directives += advanceProbe(now: now)
        directives += expireSuspicions(now: now)
        if let health = pendingHealth, now >= nextHealthAt {
            pendingHealth = nil
            me.health = health
            me.incarnation = me.incarnation.saturatingAdd(1)
            me.changedAt = now
            queue.enqueue(selfHeartbeat)
            nextHealthAt = now + settings.healthInterval
        }
        directives += gossipRound(now: now)
        directives += antiEntropy(now: now)
        return directives + [.scheduleTick(at: nextDeadline)]
    }

    /// A message arrived from `address`.
    public mutating func receive(_ message: GossipMessage, from address: GossipAddress, now: UInt64) -> [GossipDirective] {
        guard message.sender != me.info.name else { return [] }
        var directives: [GossipDirective] = []
        // Sent by the member itself, from where the roster says it is (a forger must also spoof that address).
        let direct = roster[message.sender]?.gossip == address ? message.sender : nil
        if let direct { lastHeard[direct] = now }
        for update in message.updates { directives += apply(update, now: now, directFrom: direct) }
        switch message.kind {
        case .ping(let sequence, let target):
            // A ping meant for whoever had this address before is not answered: the prober must not count it.
            if target == me.info.name {
                directives.append(send(.ack(sequence: sequence), to: address, recipient: message.sender))
            }
        case .pingRequest(let originSequence, let target, let claimedAddress):
            guard target != me.info.name, !leaving, roster.isEmpty || roster[target] != nil else { break }
            // A roster member is pinged where the roster says it is: a forged request cannot aim pings elsewhere.
            let targetAddress = roster[target]?.gossip ?? claimedAddress
            let sequence = nextSequence()
            let timeout = UInt64(Double(scaled(settings.probeTimeout)) * settings.helperTimeoutFraction)
            relays[sequence] = Relay(origin: address, originSequence: originSequence, deadline: now + timeout)
            directives.append(send(.ping(sequence: sequence, target: target), to: targetAddress, recipient: target))
        case .ack(let sequence):
            if let relay = relays.removeValue(forKey: sequence) {
                directives.append(send(.ack(sequence: relay.originSequence), to: relay.origin, recipient: nil))
            } else if probe?.sequence == sequence {
                probe = nil
                adjustLocalHealth(-1)
            } else if let suspect = checks.removeValue(forKey: sequence) {
                // The suspect answered the check; its refutation normally came with the answer. If not, checked again.
                suspicions[suspect]?.checkedUntil = nil
            }
        case .nack(let sequence):
            if probe?.sequence == sequence { probe?.nacks += 1 }
        case .gossip:
            break
        case .sync(let reply):
            if !reply { directives += syncPages(to: address, reply: true) }
        }
        return directives + [.scheduleTick(at: nextDeadline)]
    }

    var selfUpdate: GossipUpdate { .alive(me.info, incarnation: me.incarnation, health: me.health) }

    /// This node alive at its incarnation, without its description (others know it).
    var selfHeartbeat: GossipUpdate { .heartbeat(name: me.info.name, incarnation: me.incarnation, health: me.health) }

    mutating func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// A duration stretched by the local health multiplier.
    func scaled(_ duration: UInt64) -> UInt64 {
        settings.localHealthEnabled ? duration * UInt64(localHealth + 1) : duration
    }

    mutating func adjustLocalHealth(_ delta: Int) {
        localHealth = min(settings.maximumLocalHealth, max(0, localHealth + delta))
    }

    /// Lifeguard: from Max down to Min as confirmations (beyond the first suspicion) approach K.
    func suspicionTimeout(confirmations: Int, members n: Int) -> UInt64 {
        let base = Double(settings.probeInterval) * max(1, log10(Double(max(n, 1))))
        let minimum = base * settings.suspicionMinimumPeriods
        let maximum = base * settings.suspicionMaximumPeriods
        let independent = Double(max(0, confirmations - 1))
        let k = Double(max(1, settings.suspicionConfirmations))
        let timeout = maximum - (maximum - minimum) * log(independent + 1) / log(k + 1)
        return UInt64(max(minimum, timeout))
    }

    /// Up to `count` random alive or suspected members other than this node and `excluding`.
    mutating func randomActive(count: Int, excluding: Set<String>) -> [Member] {
        var pool = activeNames
        var chosen: [Member] = []
        var index = 0
        while chosen.count < count && index < pool.count {
            pool.swapAt(index, Int.random(in: index..<pool.count, using: &generator))
            if !excluding.contains(pool[index]), let member = others[pool[index]] { chosen.append(member) }
            index += 1
        }
        return chosen
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, for a predicate that is false then true along the array.
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
