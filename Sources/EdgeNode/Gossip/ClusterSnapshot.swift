import Foundation
import Gossip

/// What `/cluster` and `edgenode status` show: this node's view of the fleet.
public struct ClusterSnapshot: Codable, Sendable, Equatable {
    public struct Health: Codable, Sendable, Equatable {
        public var activeConnections: UInt32
        public var egressBytesPerSecond: UInt64
        public var cacheHitRatio: Double
        public var loadScore: UInt16
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var role: String
        public var region: String
        public var latitude: Double
        public var longitude: Double
        public var http: String
        public var gossip: String
        public var status: String
        public var incarnation: UInt64
        public var health: Health
        /// Seconds since this node's view of the member last changed.
        public var lastChangeSecondsAgo: Double
        /// Seconds the member has had its status (how long it has been alive, for routing's `recovery_seconds`).
        public var statusSecondsAgo: Double
    }

    public struct Record: Codable, Sendable, Equatable {
        public var key: String
        public var epoch: UInt64
        public var valueBase64: String
        public var signed: Bool
    }

    /// The emergency flag in force (absent when none was ever published).
    public struct Emergency: Codable, Sendable, Equatable {
        /// `on` or `off`.
        public var mode: String
        public var epoch: UInt64
        /// Names of the operator keys that signed it.
        public var signedBy: [String]
        /// When the operator issued it (Unix seconds).
        public var issuedAt: Int64
        public var reason: String
    }

    public var node: String
    public var localHealthMultiplier: Int
    public var members: [Entry]
    public var records: [Record]
    public var emergency: Emergency?

    /// The JSON rendering of `view`, with ages counted to `now` (uptime ns).
    public init(_ view: ClusterView, now: UInt64) {
        node = view.node
        localHealthMultiplier = view.localHealthMultiplier
        members = view.members.map { member in
            Entry(name: member.name, role: member.role.rawValue, region: member.region, latitude: member.location.latitude,
                  longitude: member.location.longitude, http: member.http, gossip: member.gossip, status: member.status.description,
                  incarnation: member.incarnation,
                  health: Health(activeConnections: member.health.activeConnections, egressBytesPerSecond: member.health.egressBytesPerSecond,
                                 cacheHitRatio: Double(member.health.cacheHitPermille) / 1000, loadScore: member.health.loadScore),
                  lastChangeSecondsAgo: Double(now.elapsed(since: member.changedAt)) / 1e9,
                  statusSecondsAgo: Double(now.elapsed(since: member.statusSince)) / 1e9)
        }
        records = view.records.map { Record(key: $0.key, epoch: $0.epoch, valueBase64: Data($0.value).base64EncodedString(), signed: $0.signed) }
        emergency = view.emergency.map { held in
            Emergency(mode: held.flag.on ? "on" : "off", epoch: held.flag.epoch, signedBy: held.signers, issuedAt: held.flag.issuedAt,
                      reason: held.flag.reason)
        }
    }
}
