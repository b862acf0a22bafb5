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
    /// Records this node holds from the start (the emergency flag it kept), checked by `recordValidator` like any.
    public var initialRecords: [ClusterRecord] = []
    /// Which cluster records this node takes and passes on (default: none).
    public var recordValidator: GossipCore<SystemRandomNumberGenerator>.RecordValidator = { _ in false }
    /// Called once the gossip socket is bound (readiness).
    public var onListening: (@Sendable () -> Void)?
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
