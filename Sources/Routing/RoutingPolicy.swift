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

    public func decide(_ request: Request, members: [Member]) -> Decision {
        var excluded: [(name: String, reason: Exclusion)] = []
        var tiers = Array(repeating: [(member: Member, distance: Double, effective: Double)](), count: request.roleTiers.count)
        for member in members {
            guard let tier = request.roleTiers.firstIndex(where: { $0.contains(member.role) }) else {
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
            tiers[tier].append((member, distance, distance + settings.loadPenaltyKm * Double(min(member.load, 1000)) / 1000))
        }
        var candidates: [Candidate] = []
        for (index, tier) in tiers.enumerated() {
            candidates += rank(tier, tier: index, request: request)
        }
        return Decision(candidates: candidates, excluded: excluded)
    }

    private func rank(_ members: [(member: Member, distance: Double, effective: Double)], tier: Int, request: Request) -> [Candidate] {
        func candidate(_ entry: (member: Member, distance: Double, effective: Double), _ reason: Reason) -> Candidate {
            Candidate(name: entry.member.name, role: entry.member.role, distanceKm: entry.distance, effectiveKm: entry.effective, tier: tier,
                      reason: reason)
        }
        let byDistance = { (a: (member: Member, distance: Double, effective: Double), b: (member: Member, distance: Double, effective: Double)) in
            a.effective != b.effective ? a.effective < b.effective : a.member.name < b.member.name
        }
        let settled = members.filter { $0.member.aliveForSeconds >= settings.recoverySeconds }.sorted(by: byDistance)
        let recovering = members.filter { $0.member.aliveForSeconds < settings.recoverySeconds }.sorted(by: byDistance)
        guard let best = settled.first else { return recovering.map { candidate($0, .recovering) } }
        let inGroup = settled.filter { $0.effective <= best.effective + settings.groupRadiusKm }
        let order = Rendezvous.rank(key: request.contentID, nodes: inGroup.map(\.member.name))
        var ranked = order.compactMap { name in inGroup.first { $0.member.name == name } }.map { candidate($0, .nearestGroup) }
        ranked += settled.dropFirst(inGroup.count).map { candidate($0, .distance) }
        if let previous = request.previous, let index = ranked.firstIndex(where: { $0.name == previous }), index > 0,
           ranked[index].reason == .distance, ranked[index].effectiveKm <= best.effective + settings.hysteresisKm {
            let kept = ranked.remove(at: index)
            ranked.insert(Candidate(name: kept.name, role: kept.role, distanceKm: kept.distanceKm, effectiveKm: kept.effectiveKm, tier: tier,
                                    reason: .previous), at: 0)
        }
        return ranked + recovering.map { candidate($0, .recovering) }
    }
}
