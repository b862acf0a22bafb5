/// What a member is known as. Ordering follows SWIM's precedence at one incarnation: alive < suspect < dead/left; a
/// higher incarnation wins over any state at a lower one (it can only come from the member itself).
public enum MemberStatus: UInt8, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case alive = 0
    case suspect = 1
    case dead = 2
    /// Left gracefully: not probed, not suspected, remembered like the dead.
    case left = 3

    public static func < (lhs: MemberStatus, rhs: MemberStatus) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int { self == .left ? 2 : Int(rawValue) }

    public var description: String {
        switch self {
        case .alive: "alive"
        case .suspect: "suspect"
        case .dead: "dead"
        case .left: "left"
        }
    }

    /// Counted in n and probed.
    public var isActive: Bool { self == .alive || self == .suspect }
}

/// Where a member listens for gossip.
public struct GossipAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A member's static description, from its own `nodes.conf` entry.
public struct MemberInfo: Hashable, Sendable {
    public var name: String
    public var role: String
    public var region: String
    /// Millionths of a degree.
    public var latitude: Int32
    public var longitude: Int32
    /// Viewer-facing HTTP address.
    public var http: String
    public var gossip: GossipAddress

    public init(name: String, role: String, region: String, latitude: Int32, longitude: Int32, http: String, gossip: GossipAddress) {
        self.name = name
        self.role = role
        self.region = region
        self.latitude = latitude
        self.longitude = longitude
        self.http = http
        self.gossip = gossip
    }
}

/// How loaded a member is, as it reports itself.
public struct NodeHealth: Hashable, Sendable {
    public var activeConnections: UInt32
    public var egressBytesPerSecond: UInt64
    /// Cache hit ratio in thousandths (0...1000).
    public var cacheHitPermille: UInt16
    /// 0 (idle) ... 1000 (saturated).
    public var loadScore: UInt16
    /// False while the node's data plane does not answer (its event loops are stalled): routing sends it nobody,
    /// whatever gossip says of its liveness.
    public var serving: Bool

    public init(activeConnections: UInt32 = 0, egressBytesPerSecond: UInt64 = 0, cacheHitPermille: UInt16 = 0, loadScore: UInt16 = 0,
                serving: Bool = true) {
        self.activeConnections = activeConnections
        self.egressBytesPerSecond = egressBytesPerSecond
        self.cacheHitPermille = min(cacheHitPermille, 1000)
        self.loadScore = min(loadScore, 1000)
        self.serving = serving
    }
}

extension NodeHealth {
    /// Whether the change from `old` to `new` is worth announcing at once: serving or not, load or hit ratio by 5 points (of 100),
    /// connections or egress by 20 % (and by more than 5 connections or 1 MB/s).
    public static func differsSignificantly(_ old: NodeHealth, _ new: NodeHealth) -> Bool {
        func relative(_ a: UInt64, _ b: UInt64, floor: UInt64) -> Bool {
            let difference = a > b ? a - b : b - a
            return difference > floor && difference > max(a, b) / 5
        }
        return old.serving != new.serving || abs(Int(old.loadScore) - Int(new.loadScore)) >= 50 || abs(Int(old.cacheHitPermille) - Int(new.cacheHitPermille)) >= 50
            || relative(UInt64(old.activeConnections), UInt64(new.activeConnections), floor: 5)
            || relative(old.egressBytesPerSecond, new.egressBytesPerSecond, floor: 1_000_000)
    }
}

/// One member as this node knows it.
public struct Member: Hashable, Sendable {
    public var info: MemberInfo
    public var incarnation: UInt64
    public var status: MemberStatus
    public var health: NodeHealth
    /// When this node last changed its view of the member (uptime ns): health announcements move it too.
    public var changedAt: UInt64
    /// Since when the member has had its current status in this node's view (uptime ns): how long it has been alive
    /// since it (re)joined or refuted a suspicion, whatever it announced meanwhile.
    public var statusSince: UInt64

    public init(info: MemberInfo, incarnation: UInt64, status: MemberStatus, health: NodeHealth, changedAt: UInt64) {
        self.info = info
        self.incarnation = incarnation
        self.status = status
        self.health = health
        self.changedAt = changedAt
        statusSince = changedAt
    }
}
