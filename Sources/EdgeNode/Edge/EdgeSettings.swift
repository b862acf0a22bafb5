import Manifest

/// How a caching node (edge, mesh, satellite) fills from its parents.
public struct EdgeSettings: Sendable {
    /// This node's name (sent in `Via`).
    public var nodeName: String
    /// Parents, tried in this order.
    public var parents: [ParentAddress]
    /// The origin's key: nothing is served unless it verifies against a manifest signed with it.
    public var verifier: NoteVerifier
    /// Disk cache budget.
    public var cacheSizeBytes: Int64
    /// Segments filled ahead of a viewer.
    public var prefetch: Int
    /// Seconds a manifest is used before it is revalidated.
    public var manifestTTLSeconds: Int
    /// Connect and read timeout towards a parent.
    public var upstreamTimeoutSeconds: Int64 = 5
    /// A waiting viewer that sees no new verified chunk for this long gets 504 (or is cut off).
    public var waitTimeoutSeconds: Int64 = 10
    /// Viewers waiting on one object, at most (more get 503).
    public var maximumWaiters = 10_000
    /// Whether gossip reports a parent dead or departed: such a parent is tried after every other, without waiting
    /// for a request to it to time out.
    public var isDown: @Sendable (String) -> Bool = { _ in false }
    /// The fleet's proof for a request of a path to a parent (`FleetRequestAuth`), nil without a fleet keyring.
    var fleetProof: @Sendable (_ path: String) -> String? = { _ in nil }

    public init(nodeName: String, parents: [ParentAddress], verifier: NoteVerifier, cacheSizeBytes: Int64, prefetch: Int,
                manifestTTLSeconds: Int) {
        self.nodeName = nodeName
        self.parents = parents
        self.verifier = verifier
        self.cacheSizeBytes = cacheSizeBytes
        self.prefetch = prefetch
        self.manifestTTLSeconds = manifestTTLSeconds
    }
}
