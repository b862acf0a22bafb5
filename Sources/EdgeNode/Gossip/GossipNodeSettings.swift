import Gossip

/// How this node takes part in gossip: who it is, whom it knows from `nodes.conf`, whom it joins through, and the
/// keyring that authenticates and encrypts every packet.
public struct GossipNodeSettings: Sendable {
    public var me: MemberInfo
    /// Every other node of the fleet with a gossip address (assumed alive until probes say otherwise).
    public var fleet: [MemberInfo]
    public var seeds: [GossipAddress]
    public var keyringPath: String
    /// The fleet's name (`[fleet] name`), authenticated in every packet: another fleet sharing the keyring is refused.
    public var fleetName: String
    public var protocolSettings = GossipSettings()
    /// How often the keyring file is checked for changes (rotation).
    public var keyringCheckSeconds: Int64 = 5

    public init(me: MemberInfo, fleet: [MemberInfo], seeds: [GossipAddress], keyringPath: String, fleetName: String) {
        self.me = me
        self.fleetName = fleetName
        self.fleet = fleet
        self.seeds = seeds
        self.keyringPath = keyringPath
    }
}

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
    }

    public struct Record: Codable, Sendable, Equatable {
        public var key: String
        public var epoch: UInt64
        public var valueBase64: String
        public var signed: Bool
    }

    public var node: String
    public var localHealthMultiplier: Int
    public var members: [Entry]
    public var records: [Record]
}
