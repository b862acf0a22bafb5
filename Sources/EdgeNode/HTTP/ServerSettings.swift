import HTTPSemantics
import Manifest
import NIOCore
import NodeTLS
import Prometheus
import Routing

/// How a node's HTTP data plane runs.
public struct ServerSettings: Sendable {
    public var listen: SocketAddressSpec
    /// A second listener for HTTPS (`https`, `tls_cert`, `tls_key`), serving the same content.
    public var https: (address: SocketAddressSpec, tls: ServerTLS)?
    /// The content (or cache) directory served.
    public var root: String
    /// Event loop threads.
    public var threads: Int = System.coreCount
    /// Connections beyond this are closed as soon as they are accepted.
    public var maxConnections = 10_000
    /// Request line plus header fields, at most; beyond it: 431.
    public var maxHeadBytes = 16 * 1024
    /// A request (head, and any body) must arrive within this many seconds of its first byte; beyond it: 408
    /// (slowloris: a trickle cannot extend it).
    public var headTimeoutSeconds: Int64 = 10
    /// An idle keep-alive connection is closed after this many seconds.
    public var idleTimeoutSeconds: Int64 = 60
    /// A response whose client acknowledges less than `sendMinimumBytesPerSecond` for this long is abandoned; a
    /// slow reader that keeps up that pace is served to the end, however long it takes.
    public var sendTimeoutSeconds: Int64 = 120
    /// The slowest pace of acknowledged bytes that still counts as progress of a response.
    public var sendMinimumBytesPerSecond: UInt64 = 256
    /// In-flight responses get this long to finish on shutdown.
    public var drainTimeoutSeconds: Int64 = 10
    /// Request bodies (never needed for GET/HEAD) larger than this are refused with 413.
    public var maxBodyBytes = 64 * 1024
    /// The origin's key, to check manifests before using their ETags.
    public var verifier: NoteVerifier?
    /// Set on edge, mesh and satellite nodes: `root` is then a disk cache filled from parents.
    public var edge: EdgeSettings?
    /// The node this data plane belongs to (its cluster view is served at `/cluster`); nil for a directory served on
    /// its own.
    public var node: NodeState?
    /// Viewer routing, the fleet's hosts and the emergency check, replaced by reloads (nil: a directory served on its
    /// own).
    var fleet: LiveFleet?
    /// Counts views of what this node serves (nodes that report their deliveries).
    var views: ViewRecorder?
    /// How long a gossiping node waits to merge a seed's state (so the emergency mode in force) before it listens.
    public var joinTimeout: Duration = .seconds(2)
    /// Where and how finished responses are logged (`access_log`, `access_log_format`); nil: no access log.
    public var accessLog: (path: String, format: AccessLogFormat)?
    /// Called once the listening socket is bound (readiness).
    public var onListening: (@Sendable () -> Void)?
    /// Where swift-metrics counters are collected; served at `/metrics` to loopback clients.
    public var metrics: PrometheusCollectorRegistry?

    public init(listen: SocketAddressSpec, root: String) {
        self.listen = listen
        self.root = root
    }
}
