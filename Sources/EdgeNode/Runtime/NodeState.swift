import Dispatch
import Gossip
import NIOConcurrencyHelpers
import NIOCore
import Routing
import Synchronization

/// One node's typed, shared state: who it is, its view of the cluster, its own traffic and health. The services of a
/// `NodeRuntime` read it and subscribe to it instead of reaching into each other.
public final class NodeState: Sendable {
    public let name: String
    public let role: NodeRole
    private let parts = NIOLockedValueBox<(gossip: GossipService?, server: HTTPServer?)>((nil, nil))
    private let sampler = NIOLockedValueBox(HealthSampler())
    private let emergency = Atomic<Bool>(false)
    private let dataPlaneAnswers = Atomic<Bool>(true)
    /// The latest changes of the emergency flag this node took, and its latest routing decisions (the status page).
    let emergencyHistory = RecentEvents<EmergencyEvent>(capacity: 20)
    let routingHistory = RecentEvents<RoutingEvent>(capacity: 50)

    public init(name: String, role: NodeRole) {
        self.name = name
        self.role = role
    }

    /// Called once by the runtime as it assembles the node.
    func attach(gossip: GossipService?, server: HTTPServer) {
        parts.withLockedValue { $0 = (gossip, server) }
    }

    /// Whether this node gossips.
    public var gossips: Bool { parts.withLockedValue { $0.gossip != nil } }

    /// The latest cluster view (nil when the node does not gossip, or before gossip has started).
    public var cluster: ClusterView? { parts.withLockedValue { $0.gossip }?.view() }

    /// The generation of the cluster view (see `GossipService.generation`; 0 without gossip).
    public var clusterGeneration: UInt64 { parts.withLockedValue { $0.gossip }?.generation() ?? 0 }

    /// The cluster view for `/cluster` (nil as for `cluster`).
    public var clusterSnapshot: ClusterSnapshot? { parts.withLockedValue { $0.gossip }?.snapshot() }

    /// The current view and every change in membership, status or records; finishes at once on a node that does not
    /// gossip.
    public func clusterChanges() -> AsyncStream<ClusterView> {
        guard let gossip = parts.withLockedValue({ $0.gossip }) else { return AsyncStream { $0.finish() } }
        return gossip.changes()
    }

    /// Waits until gossip merged a seed's state or `timeout` passed (at once without gossip): a node adopts the
    /// fleet's emergency mode before it serves. True when it joined.
    func awaitJoined(timeout: Duration) async -> Bool {
        guard let gossip = parts.withLockedValue({ $0.gossip }) else { return true }
        return await gossip.awaitJoined(timeout: timeout)
    }

    /// Whether emergency broadcast mode is on, as of the latest flag this node took (read for every viewer request,
    /// so without a lock).
    public var emergencyOn: Bool { emergency.load(ordering: .relaxed) }

    /// The flag in force changed (or was loaded from disk at start).
    func noteEmergency(on: Bool) {
        emergency.store(on, ordering: .relaxed)
    }

    /// Whether the data plane's event loops answer (`ServingMonitor`'s last probe): when they do not, gossip
    /// announces the node as not serving and `/healthz` fails on any loop that still runs.
    public var servesViewers: Bool { dataPlaneAnswers.load(ordering: .relaxed) }

    /// The latest probe of the data plane's event loops; true when the answer changed.
    func noteDataPlane(answering: Bool) -> Bool {
        dataPlaneAnswers.exchange(answering, ordering: .relaxed) != answering
    }

    /// Publishes a cluster record through gossip: the future of whether it was taken; nil when the node does not
    /// gossip or gossip is not running.
    func publish(_ record: ClusterRecord) -> EventLoopFuture<Bool>? {
        parts.withLockedValue { $0.gossip }?.publishing(record)
    }

    /// What the data plane has sent since start.
    public var traffic: TrafficTotals { parts.withLockedValue { $0.server }?.trafficTotals ?? TrafficTotals() }

    /// Health for gossip: rates over the interval since the previous call (gossip is the one caller).
    func sampleHealth() -> NodeHealth {
        guard let server = parts.withLockedValue({ $0.server }) else { return NodeHealth() }
        let totals = server.trafficTotals, connections = server.connections
        var health = sampler.withLockedValue {
            $0.sample(totals, now: DispatchTime.now().uptimeNanoseconds, connections: connections.open, maxConnections: connections.limit)
        }
        health.serving = servesViewers
        return health
    }

    /// Whether gossip reports `member` dead or departed (a node without gossip knows nothing and says no).
    public func isDown(_ member: String) -> Bool {
        guard let status = cluster?.members.first(where: { $0.name == member })?.status else { return false }
        return status == .dead || status == .left
    }
}
