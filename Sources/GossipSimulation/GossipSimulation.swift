import EdgeCache
import Gossip

/// A deterministic simulation of a gossip cluster: every member runs the real `GossipCore`; a seeded fake network
/// delivers (or loses) encoded messages with latency, and a fake clock drives everything. Crashes, CPU stalls and
/// partitions are injected; any run can be replayed from its seed.
public final class GossipSimulation {
    /// The simulated network and cluster.
    public struct Settings: Sendable {
        public var members: Int
        public var gossip: GossipSettings
        public var seed: UInt64
        /// One-way latency: base plus uniform jitter.
        public var latency: UInt64 = 1_000_000
        public var jitter: UInt64 = 1_000_000
        /// Probability that a datagram is lost.
        public var loss: Double = 0
        /// Each member's wall clock is off by up to this much either way (NTP keeps real fleets within milliseconds).
        public var clockSkew: UInt64 = 20_000_000

        public init(members: Int, gossip: GossipSettings = GossipSettings(), seed: UInt64) {
            self.members = members
            self.gossip = gossip
            self.seed = seed
        }
    }

    enum Event {
        case tick(Int)
        case deliver(to: Int, message: GossipMessage, from: GossipAddress)
        case wake(Int)
    }

    public let settings: Settings
    public private(set) var now: UInt64 = 0
    public private(set) var cores: [GossipCore<SplitMix64>] = []
    public let names: [String]
    private var addresses: [GossipAddress: Int] = [:]
    private var events = EventQueue<Event>()
    private var scheduledTick: [UInt64?]
    private var network: SplitMix64
    public private(set) var crashed: Set<Int> = []
    private var stalledUntil: [UInt64]
    private var deferred: [[Event]]
    private var group: [Int]?
    /// Datagram bytes sent per member (encoded message plus sealing overhead).
    public private(set) var bytesSent: [Int]
    /// When each member first saw each other member dead: [observer][target].
    public private(set) var deadSeen: [[UInt64?]]
    /// Every time a member was declared dead by some observer while it was not crashed: (observer, target, time).
    public private(set) var falseDeaths: [(observer: Int, target: Int, time: UInt64)] = []
    /// Datagrams and bytes sent, by message kind (ping, ping-req, ack, nack, gossip, sync).
    public private(set) var traffic: [String: (packets: Int, bytes: Int)] = [:]
    /// When each member first held each record key.
    public private(set) var recordSeen: [String: [UInt64?]] = [:]

    public init(_ settings: Settings, validator: @escaping GossipCore<SplitMix64>.RecordValidator = { _ in true }) {
        self.settings = settings
        let count = settings.members
        names = (0..<count).map { "n\($0)" }
        network = SplitMix64(seed: settings.seed)
        scheduledTick = Array(repeating: nil, count: count)
        stalledUntil = Array(repeating: 0, count: count)
        deferred = Array(repeating: [], count: count)
        bytesSent = Array(repeating: 0, count: count)
        deadSeen = Array(repeating: Array(repeating: nil, count: count), count: count)
        let infos = (0..<count).map { index in
            MemberInfo(name: "n\(index)", role: "edge", region: "sim", latitude: 0, longitude: 0, http: "sim:\(index)",
                       gossip: GossipAddress(host: "10.0.\(index / 250).\(index % 250)", port: 7946))
        }
        for (index, info) in infos.enumerated() { addresses[info.gossip] = index }
        // Each member's generator is seeded from the network's stream: seeds that differ by a multiple of
        // SplitMix64's increment would give members the same sequence shifted by a step (correlated choices).
        for index in 0..<count {
            var core = GossipCore(info: infos[index], seeds: [], settings: settings.gossip,
                                  generator: SplitMix64(seed: network.next()), now: 0, validator: validator)
            core.assume(infos, now: 0)
            core.clockOffset = Int64.random(in: -Int64(settings.clockSkew)...Int64(settings.clockSkew), using: &network)
            cores.append(core)
        }
        for index in 0..<count {
            // Stagger the members' first ticks across one period, as real start-up would.
            let offset = UInt64.random(in: 0..<settings.gossip.probeInterval, using: &network)
            schedule(index, at: offset)
        }
    }

    /// The member's view of `target`'s status.
    public func status(of target: Int, seenBy observer: Int) -> MemberStatus? {
        cores[observer].member(names[target])?.status
    }

    /// Kills a member: it sends and receives nothing from now on.
    public func crash(_ member: Int) { crashed.insert(member) }

    /// Freezes a member (CPU stall) for `duration`: on waking its timers fire first, then what arrived meanwhile.
    public func stall(_ member: Int, for duration: UInt64) {
        stalledUntil[member] = max(stalledUntil[member], now + duration)
        events.push(.wake(member), at: now + duration)
    }

    /// Splits the network: datagrams between different groups are lost.
    public func partition(_ groups: [Int]) { group = groups }

    public func heal() { group = nil }

    /// A member publishes a cluster record.
    public func publish(_ record: ClusterRecord, from member: Int) {
        perform(cores[member].publish(record, now: now), by: member)
    }

    /// Runs the simulation until `time`.
    public func run(until time: UInt64) {
        while let next = events.nextTime, next <= time {
            let (at, event) = events.pop()!
            now = at
            handle(event)
        }
        now = max(now, time)
    }

    private func handle(_ event: Event) {
        switch event {
        case .tick(let member):
            guard !crashed.contains(member), scheduledTick[member] == now else { return }
            if now < stalledUntil[member] {
                deferred[member].append(event)
                return
            }
            scheduledTick[member] = nil
            perform(cores[member].tick(now: now), by: member)
        case .deliver(let member, let message, let from):
            guard !crashed.contains(member) else { return }
            if now < stalledUntil[member] {
                deferred[member].append(event)
                return
            }
            perform(cores[member].receive(message, from: from, now: now), by: member)
        case .wake(let member):
            guard now >= stalledUntil[member] else { return }
            let pending = deferred[member]
            deferred[member] = []
            // Timers first: the pathological order that makes a stalled member accuse healthy ones.
            if scheduledTick[member] != nil {
                scheduledTick[member] = nil
                perform(cores[member].tick(now: now), by: member)
            }
            for case .deliver(_, let message, let from) in pending where !crashed.contains(member) {
                perform(cores[member].receive(message, from: from, now: now), by: member)
            }
        }
    }

    func injectDelivery(to member: Int, message: GossipMessage, from address: GossipAddress) {
        if settings.loss > 0 && Double.random(in: 0..<1, using: &network) < settings.loss { return }
        events.push(.deliver(to: member, message: message, from: address), at: now + settings.latency)
    }

    private func schedule(_ member: Int, at time: UInt64) {
        let at = max(time, now)
        if let existing = scheduledTick[member], existing <= at, existing >= now { return }
        scheduledTick[member] = at
        events.push(.tick(member), at: at)
    }

    private func perform(_ directives: [GossipDirective], by member: Int) {
        for directive in directives {
            switch directive {
            case .send(let message, let address):
                guard !crashed.contains(member), let target = addresses[address] else { continue }
                let bytes = WireCodec.encode(message).count + PacketSealer.overhead
                bytesSent[member] += bytes
                let kind: String = switch message.kind {
                case .ping: "ping"
                case .pingRequest: "ping-req"
                case .ack: "ack"
                case .nack: "nack"
                case .gossip: "gossip"
                case .sync: "sync"
                }
                traffic[kind, default: (0, 0)].packets += 1
                traffic[kind, default: (0, 0)].bytes += bytes
                if let group, group[member] != group[target] { continue }
                if settings.loss > 0 && Double.random(in: 0..<1, using: &network) < settings.loss { continue }
                let delay = settings.latency + (settings.jitter > 0 ? UInt64.random(in: 0...settings.jitter, using: &network) : 0)
                events.push(.deliver(to: target, message: message, from: cores[member].me.info.gossip), at: now + delay)
            case .scheduleTick(let time):
                schedule(member, at: time)
            case .memberChanged(let changed, _):
                guard changed.status == .dead, let target = names.firstIndex(of: changed.info.name) else { continue }
                if deadSeen[member][target] == nil { deadSeen[member][target] = now }
                if !crashed.contains(target) { falseDeaths.append((member, target, now)) }
            case .recordChanged(let record):
                if recordSeen[record.key] == nil { recordSeen[record.key] = Array(repeating: nil, count: names.count) }
                if recordSeen[record.key]![member] == nil { recordSeen[record.key]![member] = now }
            }
        }
    }
}

extension GossipSimulation {
    /// A Byzantine member (one holding the fleet key) sends `message` to `member` as if from `sender`'s address;
    /// delivered (or lost) like any datagram.
    public func forge(_ message: GossipMessage, from sender: Int, to member: Int) {
        injectDelivery(to: member, message: message, from: cores[sender].me.info.gossip)
    }
}
