/// Timing, fan-out and size limits of the membership protocol. Durations are nanoseconds.
public struct GossipSettings: Sendable, Equatable {
    /// SWIM protocol period T': one probe per period (scaled by the local health multiplier).
    public var probeInterval: UInt64 = 1_000_000_000
    /// How long a direct ping waits for its ack before `ping-req` goes to helpers (scaled like the interval).
    public var probeTimeout: UInt64 = 400_000_000
    /// k: helpers asked to probe indirectly.
    public var indirectProbes = 3
    /// A helper gives up on the target (and sends `nack`) after this fraction of the probe timeout, so its `nack`
    /// reaches the prober before the period ends.
    public var helperTimeoutFraction = 0.8
    /// Gossip rounds: every interval, pending updates go to `gossipFanout` random members.
    public var gossipInterval: UInt64 = 200_000_000
    public var gossipFanout = 3
    /// λ: each update is sent about λ·ceil(log10(n+1)) times by every member that holds it.
    public var retransmitMultiplier = 4
    /// Cluster records are sent this many times more often than member updates (they are rare and must arrive).
    public var recordRetransmitFactor = 2
    /// Suspicion timeout bounds, in protocol periods times max(1, log10 n) (as memberlist scales them).
    public var suspicionMinimumPeriods = 1.0
    public var suspicionMaximumPeriods = 4.5
    /// K: independent confirmations that shrink a suspicion to its minimum (Lifeguard).
    public var suspicionConfirmations = 3
    /// About this many members probe a reported suspect out of turn (each with probability probers / (n − 1)).
    public var suspectProbers = 32
    /// S: the local health multiplier saturates here (intervals and timeouts back off to (S+1)×).
    public var maximumLocalHealth = 8
    /// Lifeguard's local health awareness; off only to measure what it buys.
    public var localHealthEnabled = true
    /// Largest datagram on the wire, authentication and encryption included.
    public var packetBudget = 1_400
    /// Bytes of every datagram that the sealing layer adds (header, nonce, tag).
    public var sealOverhead = PacketSealer.overhead
    /// Part of a packet's piggyback space reserved for cluster records before member updates may use it.
    public var recordShare = 0.5
    /// Anti-entropy: every interval the full state is exchanged with one random member (sometimes a dead one, so
    /// that partitions heal).
    public var antiEntropyInterval: UInt64 = 10_000_000_000
    /// Dead members are remembered (and sometimes contacted) this long, then forgotten.
    public var deadRetention: UInt64 = 600_000_000_000
    /// A significant health change is announced at most this often (each announcement is a new incarnation).
    public var healthInterval: UInt64 = 2_000_000_000
    /// Small changes (a connection more or less, a few percent of load) wait this long: every incarnation bump also
    /// cancels suspicions raised at the previous one, so a crashed member's last announcements would keep delaying
    /// its detection if they came every couple of seconds.
    public var healthRefreshInterval: UInt64 = 30_000_000_000

    /// The furthest an update may move a member's incarnation above the one this node knows (or above its own).
    /// A member raises its incarnation by one per health announcement or refutation, so 2³² steps is more than a
    /// century of them; a larger jump can only be forged, and is refused rather than obeyed (so a member holding
    /// the fleet key cannot pin another member at the top of the range, where it could no longer refute).
    public var maximumIncarnationJump: UInt64 = 1 << 32

    public init() {}

    /// Member updates per member, at most, for a cluster of `n`.
    public func retransmits(members n: Int) -> Int {
        retransmitMultiplier * Int(Double(n + 1).log10Ceiling)
    }
}

extension Double {
    /// ceil(log10(self)), at least 1.
    var log10Ceiling: Double {
        var power = 1.0
        var digits = 0.0
        while power < self {
            power *= 10
            digits += 1
        }
        return Swift.max(1, digits)
    }
}
