import Control
import Foundation
import Gossip
import Logging
import Manifest
import Prometheus
import Routing
import ServiceLifecycle
import UnixSignals

/// What a node's command line may change of its `nodes.conf` entry.
public struct NodeOverrides: Sendable {
    public var threads: Int?
    public var maxConnections: Int?
    public var headTimeoutSeconds: Int64?
    public var sendTimeoutSeconds: Int64?
    public var idleTimeoutSeconds: Int64?
    public var drainTimeoutSeconds: Int64?
    /// The origin's public key, instead of the entry's `origin_key`.
    public var originKey: String?
    /// Signals that stop the node gracefully (a process: SIGTERM and SIGINT; a test: none, it cancels).
    public var gracefulShutdownSignals: [UnixSignal] = []

    public init() {}
}

/// Why a node cannot be assembled.
public struct RuntimeError: Error, CustomStringConvertible {
    public let description: String
}

/// One node of the fleet, assembled from `(nodes.conf, node name)`: the HTTP data plane (with its disk cache on edge,
/// mesh and satellite nodes), gossip when the node has a gossip address, and the control module on an origin with a
/// control address, sharing one `NodeState`. Several runtimes can run in one process (each on its own addresses).
public final class NodeRuntime: Service, Sendable {
    public let state: NodeState
    public let node: NodesConfig.Node
    private let group: ServiceGroup
    /// Held while the runtime exists: one control module per ledger.
    private let ledgerLock: DirectoryLock?

    /// Opens everything the node needs (content or cache directory, keys, ledger) and binds nothing yet: `run()`
    /// listens. - Parameter metrics: served at `/metrics` to loopback clients, if given.
    public init(config: NodesConfig, node name: String, overrides: NodeOverrides = NodeOverrides(),
                metrics: PrometheusCollectorRegistry? = nil, logger: Logger) throws {
        let entry: NodesConfig.Node
        do {
            entry = try config.node(named: name)
        } catch {
            throw RuntimeError(description: "\(error)")
        }
        node = entry
        var logger = logger
        logger[metadataKey: "node"] = "\(entry.name)"
        logger[metadataKey: "role"] = "\(entry.role.rawValue)"
        let state = NodeState(name: entry.name, role: entry.role)
        self.state = state
        var settings = try Self.serverSettings(config: config, entry: entry, overrides: overrides, state: state)
        settings.metrics = metrics
        if entry.gossip != nil {
            let geoip: GeoIPDatabase?
            do {
                geoip = try config.routing.geoipDatabase.map { path throws(GeoIPDatabase.OpenError) in try GeoIPDatabase(path: path) }
            } catch {
                throw RuntimeError(description: "\(config.path): routing.geoip_db: \(error)")
            }
            settings.router = ViewerRouter(config: config, me: entry, state: state, geoip: geoip)
        }
        settings.fleetHosts = Set(config.nodes.compactMap { IPAddress($0.http.host) })
        let operatorKeys: [NoteVerifier]
        do {
            operatorKeys = try config.loadOperatorKeys()
        } catch {
            throw RuntimeError(description: "\(error)")
        }
        let flagCheck = EmergencyFlagCheck(fleet: config.fleetName, operatorKeys: operatorKeys,
                                           maximumSkewSeconds: config.emergencyMaximumSkewSeconds)
        let flagFile = EmergencyFlagFile(content: entry.content, check: flagCheck)
        // A restarted node is in the mode it kept from the first request on (gossip then brings anything newer).
        let kept = entry.gossip == nil ? nil : flagFile.load(logger: logger)
        if let kept, let flag = EmergencyRecord.flag(kept) { state.noteEmergency(on: flag.on) }
        if entry.gossip != nil { settings.emergencyCheck = flagCheck }
        let reporter = try Self.viewReporter(config: config, entry: entry, router: settings.router, state: state, logger: logger)
        settings.views = reporter?.recorder
        let server = try HTTPServer(settings: settings, logger: logger)
        let gossip = Self.gossipSettings(config: config, entry: entry).map { settings in
            var settings = settings
            settings.recordValidator = EmergencyRecord.validator(flagCheck)
            settings.initialRecords = kept.map { [$0] } ?? []
            return GossipService(settings: settings, health: { state.sampleHealth() }, logger: logger)
        }
        state.attach(gossip: gossip, server: server)
        var services: [any Service] = [server] + (gossip.map { [$0, EmergencyFlagKeeper(file: flagFile, loaded: kept, gossip: $0, state: state, logger: logger)] } ?? [])
        if let reporter { services.append(reporter) }
        if let address = entry.control, let ledger = entry.ledger {
            // One control module per ledger: a second origin process on the same database fails here.
            let database = URL(fileURLWithPath: ledger.database)
            try FileManager.default.createDirectory(at: database.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            ledgerLock = try DirectoryLock(directory: database.deletingLastPathComponent().path, fileName: "." + database.lastPathComponent + ".lock")
            var royalty = try config.royalty.settings(tipArtistShareBasisPoints: ledger.tipArtistShareBasisPoints, configPath: config.path)
            let manifestKey = try entry.originKey.map { try KeyStore.loadVerifier(path: $0) } ?? KeyStore.loadSigner(path: ledger.signingKey).verifier
            royalty.recordings = PublishedRecordings(directory: entry.content, verifier: manifestKey)
            for node in config.nodes {
                guard let key = node.reportKey else { continue }
                do {
                    royalty.reportKeys[node.name] = try KeyStore.loadVerifier(path: key + ".pub")
                } catch {
                    logger.error("a node's report key cannot be read: its delivery reports will be refused", metadata: ["node": "\(node.name)", "error": "\(error)"])
                }
            }
            services += try ControlModule.services(address: address, settings: ledger, royalty: royalty, logger: logger)
        } else {
            ledgerLock = nil
        }
        group = ServiceGroup(services: services, gracefulShutdownSignals: overrides.gracefulShutdownSignals, logger: logger)
    }

    /// Runs every service of the node until graceful shutdown (a signal, or the enclosing service group) or
    /// cancellation; the first service to fail stops the others and its error is thrown.
    public func run() async throws {
        try await group.run()
    }

    /// Stops the node as a signal would.
    public func stop() async {
        await group.triggerGracefulShutdown()
    }

    private static func serverSettings(config: NodesConfig, entry: NodesConfig.Node, overrides: NodeOverrides,
                                       state: NodeState) throws -> ServerSettings {
        var settings = ServerSettings(listen: entry.http, root: entry.content)
        settings.node = state
        settings.threads = overrides.threads ?? entry.threads ?? settings.threads
        settings.maxConnections = overrides.maxConnections ?? entry.maxConnections ?? settings.maxConnections
        settings.headTimeoutSeconds = overrides.headTimeoutSeconds ?? settings.headTimeoutSeconds
        settings.idleTimeoutSeconds = overrides.idleTimeoutSeconds ?? settings.idleTimeoutSeconds
        settings.sendTimeoutSeconds = overrides.sendTimeoutSeconds ?? settings.sendTimeoutSeconds
        settings.drainTimeoutSeconds = overrides.drainTimeoutSeconds ?? settings.drainTimeoutSeconds
        let keyPath = overrides.originKey ?? entry.originKey
        let verifier: NoteVerifier?
        do {
            verifier = try keyPath.map { path throws in try KeyStore.loadVerifier(path: path) }
        } catch {
            throw RuntimeError(description: "\(error)")
        }
        settings.verifier = verifier
        if entry.role != .origin {
            guard let verifier else { throw RuntimeError(description: "node \(entry.name) has no origin_key") }
            // Loading checked that every parent is a node of the fleet.
            let parents = entry.parents.compactMap { name in config.nodes.first { $0.name == name } }
                .map { ParentAddress(name: $0.name, address: $0.http, isPeer: $0.role == .mesh) }
            var edge = EdgeSettings(nodeName: entry.name, parents: parents, verifier: verifier, cacheSizeBytes: entry.cacheSizeBytes,
                                    prefetch: entry.prefetch, manifestTTLSeconds: entry.manifestTTLSeconds)
            edge.upstreamTimeoutSeconds = Int64(entry.upstreamTimeoutSeconds)
            // A viewer waits through at least one failover to the next parent.
            edge.waitTimeoutSeconds = max(10, 2 * Int64(entry.upstreamTimeoutSeconds) + 1)
            edge.isDown = { [weak state] parent in state?.isDown(parent) ?? false }
            settings.edge = edge
        }
        return settings
    }

    /// The view counter and its reporter of a node with `report_key` and `report_token`: the salt's secret is the
    /// fleet's gossip key (shared, so the origin can count a viewer served by several nodes once; the node's own kept
    /// secret without gossip), the counts of open periods saved before a restart are taken back.
    private static func viewReporter(config: NodesConfig, entry: NodesConfig.Node, router: ViewerRouter?, state: NodeState,
                                     logger: Logger) throws -> ViewReporter? {
        guard let keyPath = entry.reportKey, let tokenPath = entry.reportToken else { return nil }
        let signer = try KeyStore.loadSigner(path: keyPath + ".key")
        let token = String(decoding: try AtomicFile.read(tokenPath, limit: 4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let spool = try ViewSpool(content: entry.content)
        // Without a fleet keyring the node keeps its own secret (a viewer is then counted per node).
        let secret = try config.gossipKeyring.map { try KeyringFile.load($0).primary.bytes } ?? spool.nodeSecret()
        let recorder = ViewRecorder(node: entry.name, secret: secret, settings: config.royalty.counterSettings,
                                    isFleetRequest: { headers in router?.isFromFleetNode(headers) ?? false })
        let (saved, unreadable) = spool.loadOpen(node: entry.name)
        recorder.restore(saved)
        if !unreadable.isEmpty { logger.error("saved view counts unreadable, set aside", metadata: ["files": "\(unreadable)"]) }
        let client = config.nodes.first { $0.control != nil }?.control.map { ControlClient(host: $0.host, port: $0.port, token: token) }
        return ViewReporter(recorder: recorder, spool: spool, signer: signer, client: client,
                            interval: .seconds(config.royalty.viewReportIntervalSeconds), state: state, logger: logger)
    }

    private static func gossipSettings(config: NodesConfig, entry: NodesConfig.Node) -> GossipNodeSettings? {
        guard let address = entry.gossip, let keyring = config.gossipKeyring else { return nil }
        let others = config.nodes.filter { $0.name != entry.name && $0.gossip != nil }
        return GossipNodeSettings(
            me: memberInfo(entry, gossip: address), fleet: others.map { memberInfo($0, gossip: $0.gossip!) },
            seeds: config.gossipSeeds.compactMap { name in config.nodes.first { $0.name == name }?.gossip }
                .map { GossipAddress(host: $0.host, port: UInt16($0.port)) },
            keyringPath: keyring, fleetName: config.fleetName)
    }

    static func memberInfo(_ node: NodesConfig.Node, gossip: SocketAddressSpec) -> MemberInfo {
        MemberInfo(name: node.name, role: node.role.rawValue, region: node.region,
                   latitude: Int32((node.latitude * 1_000_000).rounded()), longitude: Int32((node.longitude * 1_000_000).rounded()),
                   http: node.http.description, gossip: GossipAddress(host: gossip.host, port: UInt16(gossip.port)))
    }
}
