/// What a node does in the fleet.
public enum NodeRole: String, Sendable, CaseIterable {
    /// Holds the masters, segments and signs them, hosts the control module.
    case origin
    /// Serves viewers near them, filling from its parents.
    case edge
    /// A peer that fetches segments from other mesh peers.
    case mesh
    /// A high-latency fallback link.
    case satellite
}
