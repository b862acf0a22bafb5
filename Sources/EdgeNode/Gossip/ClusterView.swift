import Gossip
import Manifest
import Routing

/// This node's typed view of the fleet as gossip knows it: what routing, the status page and metrics read.
/// `ClusterSnapshot` is its JSON rendering.
public struct ClusterView: Sendable, Equatable {
    /// One member, this node included.
    public struct Member: Sendable, Equatable {
        public var name: String
        public var role: NodeRole
        public var region: String
        public var location: GeoPoint
        /// Viewer-facing HTTP address (`host:port`).
        public var http: String
        public var gossip: String
        public var status: MemberStatus
        public var incarnation: UInt64
        public var health: NodeHealth
        /// When this node's view of the member last changed (uptime ns).
        public var changedAt: UInt64
        /// Since when the member has had its current status (uptime ns).
        public var statusSince: UInt64
    }

    /// A cluster record (emergency flag, …) as held now.
    public struct Record: Sendable, Equatable {
        public var key: String
        public var epoch: UInt64
        public var value: [UInt8]
        public var signed: Bool
    }

    /// The emergency flag gossip holds (validated on the way in: signed by an operator key, for this fleet), the names
    /// of the keys that signed it, and the signed note itself.
    public struct Emergency: Sendable, Equatable {
        public var flag: EmergencyFlag
        public var signers: [String]
        public var note: [UInt8]
    }

    /// This node's name.
    public var node: String
    /// Lifeguard's local health multiplier (0: healthy).
    public var localHealthMultiplier: Int
    /// Sorted by name.
    public var members: [Member]
    /// Sorted by key.
    public var records: [Record]
    /// The emergency flag held, parsed once per view (routing reads it for every viewer request); nil when no flag was
    /// ever published.
    public private(set) var emergency: Emergency?

    /// Whether emergency broadcast mode is on.
    public var emergencyOn: Bool { emergency?.flag.on == true }

    /// The view of a gossip core. Members whose role `NodeRole` does not know (none: `nodes.conf` is the roster) are
    /// left out.
    public init(node: String, localHealthMultiplier: Int, members: [Gossip.Member], records: [String: ClusterRecord]) {
        self.node = node
        self.localHealthMultiplier = localHealthMultiplier
        self.members = members.compactMap { member in
            guard let role = NodeRole(rawValue: member.info.role),
                  let location = GeoPoint(latitude: Double(member.info.latitude) / 1_000_000, longitude: Double(member.info.longitude) / 1_000_000)
            else { return nil }
            return Member(name: member.info.name, role: role, region: member.info.region, location: location, http: member.info.http,
                          gossip: member.info.gossip.description, status: member.status, incarnation: member.incarnation,
                          health: member.health, changedAt: member.changedAt, statusSince: member.statusSince)
        }.sorted { $0.name < $1.name }
        self.records = records.keys.sorted().map { key in
            let record = records[key]!
            return Record(key: key, epoch: record.epoch, value: record.value, signed: !record.signature.isEmpty)
        }
        emergency = records[EmergencyRecord.key].flatMap(Self.emergency)
    }

    private static func emergency(_ record: ClusterRecord) -> Emergency? {
        guard let note = try? SignedNote(parsing: String(decoding: record.value, as: UTF8.self)),
              let flag = try? EmergencyFlag(text: note.text) else { return nil }
        return Emergency(flag: flag, signers: note.signatures.map(\.name), note: record.value)
    }

    /// The members as the routing policy takes them, at `now` (uptime ns): load from their gossiped health, a member
    /// whose data plane does not answer as draining; a member counts as alive since its status last changed (not
    /// since its last health announcement).
    public func routingMembers(now: UInt64) -> [RoutingPolicy.Member] {
        members.map { member in
            let status: RoutingPolicy.Status = switch member.status {
            case .alive: .alive
            case .suspect: .suspect
            case .dead: .dead
            case .left: .left
            }
            return RoutingPolicy.Member(name: member.name, role: member.role, location: member.location, status: status,
                                        load: member.health.loadScore, draining: !member.health.serving,
                                        aliveForSeconds: status == .alive ? Double(now.elapsed(since: member.statusSince)) / 1e9 : 0)
        }
    }

    /// Whether `other` differs in what routing and operators act on: membership, status, incarnation, whether a
    /// member serves, or records (not the health figures that move every second).
    public func differsInMembership(from other: ClusterView) -> Bool {
        guard members.count == other.members.count, records == other.records else { return true }
        return zip(members, other.members).contains {
            $0.name != $1.name || $0.status != $1.status || $0.incarnation != $1.incarnation || $0.health.serving != $1.health.serving
        }
    }
}
