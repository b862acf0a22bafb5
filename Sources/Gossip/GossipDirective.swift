/// What the I/O shell must do after an input to `GossipCore`.
public enum GossipDirective: Equatable, Sendable {
    /// Seal and send this message.
    case send(GossipMessage, to: GossipAddress)
    /// Call `tick` at this time (uptime ns); replaces any earlier request.
    case scheduleTick(at: UInt64)
    /// This node's view of a member changed (for logs and metrics).
    case memberChanged(Member, previous: MemberStatus?)
    /// A cluster record was accepted.
    case recordChanged(ClusterRecord)
}

/// Protocol events, for metrics.
public struct GossipCounters: Equatable, Sendable {
    public var probesSent = 0
    public var probesFailed = 0
    public var suspicionsRaised = 0
    /// Suspicions about this node that it refuted.
    public var refutations = 0
    /// Suspected members that proved alive before their suspicion expired.
    public var suspicionsCleared = 0
    public var deathsDeclared = 0
    public var recordsRejected = 0
    /// Member updates refused: an incarnation beyond the plausible jump, a member outside the roster, or a
    /// description (address, role, location) that differs from the roster's.
    public var updatesRefused = 0

    public init() {}
}
