/// A membership or record change carried on protocol messages ("piggybacked").
public enum GossipUpdate: Hashable, Sendable {
    /// The member is alive at this incarnation, with its description and health.
    case alive(MemberInfo, incarnation: UInt64, health: NodeHealth)
    /// `from` suspects the member at this incarnation.
    case suspect(name: String, incarnation: UInt64, from: String)
    /// `from` declared the member dead at this incarnation.
    case dead(name: String, incarnation: UInt64, from: String)
    /// The member left gracefully.
    case left(name: String, incarnation: UInt64)
    /// The member is alive at this incarnation with this health — `alive` without the description, for refutations
    /// and health changes of a member others already know (less than half the bytes).
    case heartbeat(name: String, incarnation: UInt64, health: NodeHealth)
    case record(ClusterRecord)

    /// The member the update is about (nil for records).
    public var memberName: String? {
        switch self {
        case .alive(let info, _, _): info.name
        case .suspect(let name, _, _), .dead(let name, _, _), .left(let name, _), .heartbeat(let name, _, _): name
        case .record: nil
        }
    }
}

/// One protocol message: who sends it, what it is, and the updates it carries.
public struct GossipMessage: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// Are you alive? (`target` names who the sender thinks it is talking to.)
        case ping(sequence: UInt32, target: String)
        /// Please ping `target` at `address` for me and relay its ack (or tell me you got no answer).
        case pingRequest(sequence: UInt32, target: String, address: GossipAddress)
        case ack(sequence: UInt32)
        /// A helper got no answer from the target (Lifeguard): the prober's own links are fine.
        case nack(sequence: UInt32)
        /// Updates only.
        case gossip
        /// Anti-entropy: a page of the sender's full state; `reply` is false when the sender wants the receiver's.
        case sync(reply: Bool)
    }

    public var sender: String
    public var kind: Kind
    public var updates: [GossipUpdate]

    public init(sender: String, kind: Kind, updates: [GossipUpdate] = []) {
        self.sender = sender
        self.kind = kind
        self.updates = updates
    }
}
