/// What a node does in the fleet, as `nodes.conf` names it.
public enum NodeRole: String, Sendable, Hashable, CaseIterable {
    /// Holds the masters, segments and signs them, hosts the control module.
    case origin
    /// Serves viewers near them, filling from its parents.
    case edge
    /// A peer that fetches segments from other mesh peers.
    case mesh
    /// A high-latency fallback link.
    case satellite

    /// Position in `allCases`.
    var ordinal: Int {
        switch self {
        case .origin: 0
        case .edge: 1
        case .mesh: 2
        case .satellite: 3
        }
    }
}

/// Chooses the nodes a viewer should be sent to, best first, from the cluster view. Pure: no I/O, no clock, no
/// randomness; every node given the same view and request makes the same choice.
///
/// Rules, in order:
/// 1. Only members gossip reports alive, not draining and not overloaded are candidates, and only in a role the
///    request's role tiers allow (edges, then the origin, then mesh and satellite in normal operation; the caller
///    passes other tiers in emergency mode).
/// 2. Tiers are tried in order: every candidate of a tier ranks before any of the next.
/// 3. Inside a tier, the *effective distance* is the great-circle distance plus a load penalty (`loadPenaltyKm` at
///    full load, proportional below). The candidates within `groupRadiusKm` of the best form its group (one metro, as
///    a Traffic Router cache group is one location); inside the group the content id picks the order by rendezvous
///    hashing, so each content concentrates on one cache of the group. The rest follow by effective distance.
/// 4. Hysteresis: the request's `previous` node stays first while its effective distance is within
///    `hysteresisKm` of the best, so two nearly equal nodes do not trade viewers back and forth.
/// 5. A member alive for less than `recoverySeconds` (it just restarted, or came back from suspicion) ranks after
///    every settled candidate of its tier: it gets its viewers back once it has stayed up.
public struct RoutingPolicy: Sendable {
    /// The policy's knobs (`nodes.conf` `[routing]`).
    public struct Settings: Sendable, Equatable {
        /// Candidates within this effective distance of the best one form its group.
        public var groupRadiusKm: Double
        /// Effective distance added for a fully loaded node (load 1000), proportionally less below.
        public var loadPenaltyKm: Double
        /// A node at or above this load (0...1000) takes no new viewers.
        public var overloadedAt: UInt16
        /// How much better (effective km) another node must be before a route leaves its previous node.
        public var hysteresisKm: Double
        /// A member alive for less than this ranks after settled ones.
        public var recoverySeconds: Double

        public init(groupRadiusKm: Double = 50, loadPenaltyKm: Double = 500, overloadedAt: UInt16 = 900, hysteresisKm: Double = 100,
                    recoverySeconds: Double = 10) {
            self.groupRadiusKm = groupRadiusKm
            self.loadPenaltyKm = loadPenaltyKm
            self.overloadedAt = overloadedAt
            self.hysteresisKm = hysteresisKm
            self.recoverySeconds = recoverySeconds
        }
    }

    /// A member's liveness as gossip reports it.
    public enum Status: String, Sendable, Hashable {
        case alive, suspect, dead, left
    }

    /// One member of the cluster view, as routing needs it.
    public struct Member: Sendable, Equatable {
        public var name: String
        public var role: NodeRole
        public var location: GeoPoint
        public var status: Status
        /// 0 (idle) ... 1000 (saturated).
        public var load: UInt16
        public var draining: Bool
        /// How long gossip has seen it alive without interruption.
        public var aliveForSeconds: Double

        public init(name: String, role: NodeRole, location: GeoPoint, status: Status = .alive, load: UInt16 = 0,
                    draining: Bool = false, aliveForSeconds: Double = .infinity) {
            self.name = name
            self.role = role
            self.location = location
            self.status = status
            self.load = load
            self.draining = draining
            self.aliveForSeconds = aliveForSeconds
        }
    }

    /// Who is asking for what.
    public struct Request: Sendable {
        public var viewer: GeoPoint
        public var contentID: String
        /// Roles allowed to serve viewers, most preferred first.
        public var roleTiers: [Set<NodeRole>]
        /// The node the viewer is on now (the node answering, for its own viewers), kept within the hysteresis.
        public var previous: String?

        /// Normal operation: edges; the origin if no edge can; mesh and satellite nodes as the last resort.
        public static let normalTiers: [Set<NodeRole>] = [[.edge], [.origin], [.mesh, .satellite]]

        public init(viewer: GeoPoint, contentID: String, roleTiers: [Set<NodeRole>] = Self.normalTiers, previous: String? = nil) {
            self.viewer = viewer
            self.contentID = contentID
            self.roleTiers = roleTiers
            self.previous = previous
        }
    }

    /// Why a candidate is where it is in the list.
    public enum Reason: String, Sendable {
        case previous = "previous node, within the hysteresis"
        case nearestGroup = "nearest group, chosen by content hash"
        case distance = "by effective distance"
        case recovering = "recently recovered"
    }

    /// A node the viewer may be sent to.
    public struct Candidate: Sendable, Equatable {
        public let name: String
        public let role: NodeRole
        public let distanceKm: Double
        /// Distance plus the load penalty.
        public let effectiveKm: Double
        /// Index into the request's role tiers.
        public let tier: Int
        public let reason: Reason
    }

    /// Why a member is not a candidate.
    public enum Exclusion: String, Sendable {
        case suspect, dead, left, draining, overloaded
        case role = "role not allowed to serve viewers now"
    }

    /// The candidates, best first, and every member left out with the reason.
    public struct Decision: Sendable {
        public let candidates: [Candidate]
        public let excluded: [(name: String, reason: Exclusion)]
    }

    public let settings: Settings

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Ranks `members` for `request`. - Parameter limit: at most this many candidates (a redirect needs one; the
    /// route endpoint wants them all): ranking stops early, which matters at a thousand nodes.
    public func decide(_ request: Request, members: [Member], limit: Int? = nil) -> Decision {
        var excluded: [(name: String, reason: Exclusion)] = []
        var entries: [Entry] = []
        entries.reserveCapacity(members.count)
        // Each role's tier, looked up once rather than per member.
        let tiers = NodeRole.allCases.map { role in request.roleTiers.firstIndex { $0.contains(role) } }
        for (index, member) in members.enumerated() {
            guard let tier = tiers[member.role.ordinal] else {
                excluded.append((member.name, .role))
                continue
            }
            switch member.status {
            case .alive: break
            case .suspect: excluded.append((member.name, .suspect)); continue
            case .dead: excluded.append((member.name, .dead)); continue
            case .left: excluded.append((member.name, .left)); continue
            }
            if member.draining {
                excluded.append((member.name, .draining))
                continue
            }
            if member.load >= settings.overloadedAt {
                excluded.append((member.name, .overloaded))
                continue
            }
            let distance = request.viewer.distanceKm(to: member.location)
            entries.append(Entry(index: index, tier: tier, distance: distance,
                                 effective: distance + settings.loadPenaltyKm * Double(min(member.load, 1000)) / 1000,
                                 settled: member.aliveForSeconds >= settings.recoverySeconds))
        }
        let cap = max(0, limit ?? Int.max)
        let previous = request.previous.flatMap { name in members.firstIndex { $0.name == name } }
        var candidates: [Candidate] = []
        for tier in request.roleTiers.indices where candidates.count < cap {
            candidates += rank(entries.filter { $0.tier == tier }, of: members, tier: tier, request: request, previous: previous,
                               limit: cap - candidates.count)
        }
        return Decision(candidates: candidates, excluded: excluded)
    }

    /// An eligible member, by its index in the input.
    private struct Entry {
        let index: Int
        let tier: Int
        let distance: Double
        let effective: Double
        let settled: Bool
    }

    /// - Parameter previous: the index of the request's previous node in `members`, if any.
    private func rank(_ entries: [Entry], of members: [Member], tier: Int, request: Request, previous: Int?, limit: Int) -> [Candidate] {
        func candidate(_ entry: Entry, _ reason: Reason) -> Candidate {
            let member = members[entry.index]
            return Candidate(name: member.name, role: member.role, distanceKm: entry.distance, effectiveKm: entry.effective, tier: tier,
                             reason: reason)
        }
        func nearer(_ a: Entry, _ b: Entry) -> Bool {
            a.effective != b.effective ? a.effective < b.effective : members[a.index].name < members[b.index].name
        }
        /// The `count` nearest of `pool`, in order: a selection pass per entry when few are wanted of many.
        func nearest(_ pool: [Entry], _ count: Int) -> [Entry] {
            guard count > 0 else { return [] }
            guard count < pool.count / 8 else { return Array(pool.sorted(by: nearer).prefix(count)) }
            var chosen: [Entry] = []
            var taken = Set<Int>()
            for _ in 0..<count {
                guard let next = pool.filter({ !taken.contains($0.index) }).min(by: nearer) else { break }
                chosen.append(next)
                taken.insert(next.index)
            }
            return chosen
        }
        let settled = entries.filter(\.settled)
        let recovering = entries.filter { !$0.settled }
        guard let best = settled.min(by: nearer) else { return nearest(recovering, limit).map { candidate($0, .recovering) } }
        let bound = best.effective + settings.groupRadiusKm
        let group = settled.filter { $0.effective <= bound }
            .map { ($0, Rendezvous.score(key: request.contentID, node: members[$0.index].name)) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : members[$0.0.index].name < members[$1.0.index].name }
            .map(\.0)
        let rest = settled.filter { $0.effective > bound }
        var ranked = group.map { candidate($0, .nearestGroup) }
        // Hysteresis: the previous node, outside the group but within the margin, goes first.
        if let previous, let kept = rest.first(where: { $0.index == previous && $0.effective <= best.effective + settings.hysteresisKm }) {
            ranked.insert(candidate(kept, .previous), at: 0)
            ranked += nearest(rest.filter { $0.index != kept.index }, max(0, limit - ranked.count)).map { candidate($0, .distance) }
        } else {
            ranked += nearest(rest, max(0, limit - ranked.count)).map { candidate($0, .distance) }
        }
        ranked += nearest(recovering, max(0, limit - ranked.count)).map { candidate($0, .recovering) }
        return Array(ranked.prefix(limit))
    }
}
