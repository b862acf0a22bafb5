import Foundation
import Gossip
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NodeTLS
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The viewer-facing HTTP/1.1 data plane of a node, run as a `Service`: on graceful shutdown it stops accepting,
/// lets in-flight responses finish (up to `drainTimeoutSeconds`), then closes what is left.
public final class HTTPServer: Service, Sendable {
    private let settings: ServerSettings
    private let logger: Logger
    private let store: ContentStore
    private let tracker: ConnectionTracker
    private let group: MultiThreadedEventLoopGroup
    /// The cache, its parents and fills (edge, mesh and satellite nodes).
    let edge: EdgeService?
    private let traffic = TrafficMeter()
    private let requestMetrics = DataPlaneMetrics()
    /// The access log, when the node keeps one.
    let accessLog: AccessLog?
    private let processMetrics = ProcessMetrics.shared
    private let openConnections = Gauge(label: "edgenode_http_open_connections")
    private let cacheUsed = Gauge(label: "edgenode_cache_used_bytes")
    private let cacheCapacity = Gauge(label: "edgenode_cache_capacity_bytes")
    private let endpoints: NodeEndpoints
    private let lock: DirectoryLock?

    /// Opens the content root (on a caching node: the disk cache, with its index rebuilt); throws when it cannot be
    /// served.
    public init(settings: ServerSettings, logger: Logger) throws(StorageError) {
        self.settings = settings
        self.logger = logger
        // A cache directory is written (fills, `.partial/`, evictions): one process at a time. An origin's content is
        // only read here, and any number of processes may serve it.
        if settings.edge != nil {
            try? FileManager.default.createDirectory(atPath: settings.root, withIntermediateDirectories: true)
            lock = try DirectoryLock(directory: settings.root)
        } else {
            lock = nil
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: settings.threads)
        self.group = group
        do {
            edge = try settings.edge.map { edgeSettings throws(StorageError) in
                try EdgeService(settings: edgeSettings, root: settings.root, group: group, logger: logger)
            }
            let root = settings.root, cache = edge?.cache
            let failures = Counter(label: "edgenode_content_verification_failures_total")
            store = try ContentStore(root: settings.root, verifier: settings.edge?.verifier ?? settings.verifier, requireListing: edge != nil,
                                     onTampered: { path, reason in
                // A caching node drops the object and fills it again; an origin keeps its master for the operator to
                // restore, and refuses to serve it meanwhile.
                failures.increment()
                logger.error("stored bytes do not match the signed manifest; not served", metadata: [
                    "path": "\(path)", "reason": "\(reason)", "action": "\(cache == nil ? "refused (restore the master)" : "evicted and refilled")"])
                if let cache {
                    cache.remove(path)
                    unlink(root + "/" + path)
                }
            })
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        tracker = ConnectionTracker(limit: settings.maxConnections)
        do {
            accessLog = try settings.accessLog.map { log throws(StorageError) in try AccessLog(path: log.path, format: log.format, logger: logger) }
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        Gauge(label: "edgenode_http_max_connections").record(settings.maxConnections)
        var endpoints = NodeEndpoints(metrics: settings.metrics, state: settings.node, fleet: settings.fleet)
        if let node = settings.node, let fleet = settings.fleet, fleet.snapshot.emergencyCheck != nil {
            endpoints.emergency = EmergencyEndpoint(state: node, fleet: fleet, metrics: EmergencyMetrics(logger: logger), logger: logger)
        }
        let (processMetrics, tracker, openConnections, edge, cacheUsed, cacheCapacity) = (processMetrics, tracker, openConnections, edge, cacheUsed, cacheCapacity)
        endpoints.beforeScrape = {
            processMetrics.update()
            openConnections.record(tracker.count)
            if let cache = edge?.cache {
                cacheUsed.record(cache.usedBytes)
                cacheCapacity.record(cache.capacityBytes)
            }
        }
        self.endpoints = endpoints
    }

    public func run() async throws {
        let descriptors = Self.raiseDescriptorLimit()
        if descriptors < settings.maxConnections + ContentStore.maximumOpenFiles + 64 {
            logger.warning("file descriptor limit is below connections + cached files", metadata: [
                "limit": "\(descriptors)", "max-connections": "\(settings.maxConnections)"])
        }
        let group = group
        if let node = settings.node, node.gossips {
            // A restarted or newly joined node adopts the mode in force before it serves anyone.
            if await node.awaitJoined(timeout: settings.joinTimeout) {
                logger.debug("joined the fleet's gossip before serving")
            } else {
                logger.notice("no gossip seed answered in time; serving in the mode this node kept",
                              metadata: ["emergency": "\(node.emergencyOn ? "on" : "off")", "waited": "\(settings.joinTimeout)"])
            }
        }
        do {
            var channels: [Channel] = []
            do {
                for (address, tls) in [(settings.listen, nil)] + (settings.https.map { [($0.address, $0.tls)] } ?? []) {
                    do {
                        channels.append(try await makeBootstrap(group, tls: tls).bind(host: address.host, port: address.port).get())
                    } catch {
                        throw ListenError(service: tls == nil ? "HTTP" : "HTTPS", address: "\(address)", underlying: error)
                    }
                }
            } catch {
                for channel in channels { try? await channel.close() }
                throw error
            }
            settings.onListening?()
            logger.info("serving", metadata: ["listen": "\(channels.map { $0.localAddress?.logDescription ?? "?" }.joined(separator: ","))",
                                              "root": "\(settings.root)", "threads": "\(settings.threads)"])
            let all = channels
            // Graceful shutdown drains; cancellation (another service failed at start) stops at once.
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    for channel in all { try await channel.closeFuture.get() }
                } onGracefulShutdown: {
                    for channel in all { channel.close(promise: nil) }
                }
            } onCancel: {
                for channel in all { channel.close(promise: nil) }
            }
            try await drain()
            edge?.stop()
        } catch {
            edge?.stop()
            accessLog?.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
        accessLog?.stop()
    }

    /// What the data plane has sent and how the cache answered, since start (running totals).
    public var trafficTotals: TrafficTotals { traffic.totals }

    /// The data plane's event loops.
    var eventLoops: [EventLoop] { Array(group.makeIterator()) }

    /// Whether each event loop of the data plane ran a task within `timeout` (the systemd watchdog's question: a
    /// loop blocked by a bug must stop the pings).
    func eventLoopsRespond(within timeout: Duration) async -> Bool {
        await EventLoopProbe.respond(eventLoops, within: timeout)
    }

    /// Open connections now, and the most allowed.
    public var connections: (open: Int, limit: Int) { (tracker.count, settings.maxConnections) }

    /// Raises the soft RLIMIT_NOFILE to the hard limit (as nginx's `worker_rlimit_nofile` would); returns the result.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(clamping: limit.rlim_cur)
    }

    private func drain() async throws {
        logger.info("shutting down", metadata: ["open-connections": "\(tracker.count)"])
        tracker.drain()
        let deadline = ContinuousClock.now + .seconds(settings.drainTimeoutSeconds)
        while tracker.count > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if tracker.count > 0 {
            logger.warning("closing connections that did not finish in time", metadata: ["connections": "\(tracker.count)"])
            tracker.closeAll()
        }
    }

    /// The listening side of one address; with `tls`, each connection is TLS first (the context in force when it is
    /// accepted), file bodies read into buffers (`TLSFileRegionWriter`).
    private func makeBootstrap(_ group: MultiThreadedEventLoopGroup, tls: ServerTLS?) -> ServerBootstrap {
        let settings = settings, store = store, tracker = tracker, logger = logger, edge = edge, traffic = traffic, endpoints = endpoints
        let requestMetrics = requestMetrics, accessLog = accessLog
        return ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                guard tracker.admit(channel) else {
                    logger.debug("connection refused: limit reached", metadata: ["limit": "\(settings.maxConnections)"])
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLServerHandler(context: tls.current))
                        try pipeline.addHandler(TLSFileRegionWriter())
                    }
                    try pipeline.addHandler(RequestHeadGuard(limit: settings.maxHeadBytes, timeout: .seconds(settings.headTimeoutSeconds)))
                    var limits = NIOHTTPDecoderLimitConfiguration()
                    limits.maxHeaderFieldSize = settings.maxHeadBytes
                    limits.maxHeaderListSize = settings.maxHeadBytes
                    try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes,
                                                                                    informationalResponseStrategy: .drop,
                                                                                    limitConfiguration: limits)))
                    try pipeline.addHandler(FileRequestHandler(store: store, settings: settings, edge: edge, traffic: traffic, metrics: requestMetrics,
                                                                  accessLog: accessLog, endpoints: endpoints, secure: tls != nil,
                                                                  logger: logger))
                }
            }
    }
}
