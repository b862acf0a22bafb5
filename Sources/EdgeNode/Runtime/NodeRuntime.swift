import Control
import Foundation
import Gossip
import Logging
import Manifest
import NodeTLS
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
    /// A process of its own: SIGHUP reloads `nodes.conf`, and the pid is kept in `<content>/.edgenode-NAME.pid` for
    /// `edgenode reload` (several runtimes in one test process: off, they reload by `NodeRuntime.reload`).
    public var reloadOnHangup = false
    /// The level given on the command line, which `log_level` in `nodes.conf` does not change.
    public var logLevel: Logger.Level?

    public init() {}
}

/// Why a node cannot be assembled.
public struct RuntimeError: Error, CustomStringConvertible {
    public let description: String
}

/// One node of the fleet, assembled from `(nodes.conf, node name)`: the HTTP data plane (with its disk cache on edge,
/// mesh and satellite nodes), gossip when the node has a gossip address, and the control module on an origin with a
/// control address, sharing one `NodeState`. Several runtimes can run in one process (each on its own addresses).
/// `reload()` re-reads `nodes.conf` while it serves (SIGHUP in a process).
public final class NodeRuntime: Service, Sendable {
    public let state: NodeState
    /// This node's entry as the node started.
    public let node: NodesConfig.Node
    private let group: ServiceGroup
    /// Held while the runtime exists: one control module per ledger.
    private let ledgerLock: DirectoryLock?
    private let fleet: LiveFleet
    let server: HTTPServer
    private let gossip: GossipService?
    private let reportKeys: ReportKeys?
    private let reloader: ConfigReloader
    private let runFiles: RunFiles?

    /// Opens everything the node needs (content or cache directory, keys, ledger) and binds nothing yet: `run()`
    /// listens. - Parameter metrics: served at `/metrics` to loopback clients, if given. - Parameter logLevel: the
    /// process's level, which `log_level` and reloads set (unless the command line gave one).
    public init(config: NodesConfig, node name: String, overrides: NodeOverrides = NodeOverrides(),
                metrics: PrometheusCollectorRegistry? = nil, logLevel: LogLevelSwitch? = nil, logger: Logger) throws {
        let entry: NodesConfig.Node
        do {
            entry = try config.node(named: name)
        } catch {
            throw RuntimeError(description: "\(error)")
        }
        node = entry
        var nodeLogger = logger
        nodeLogger[metadataKey: "node"] = "\(entry.name)"
        nodeLogger[metadataKey: "role"] = "\(entry.role.rawValue)"
        let logger = nodeLogger
        if let logLevel { logLevel.level = overrides.logLevel ?? entry.logLevel ?? .info }
        let state = NodeState(name: entry.name, role: entry.role)
        self.state = state
        let notifier = SystemdNotifier()
        let listeners = Set(["http"] + (entry.gossip != nil && config.gossipKeyring != nil ? ["gossip"] : [])
                            + (entry.control != nil && entry.ledger != nil ? ["control"] : []))
        let readiness = Readiness(listeners: listeners) {
            notifier.send(["READY=1", "STATUS=serving"])
            logger.notice("ready", metadata: ["listeners": "\(listeners.sorted().joined(separator: ","))"])
        }
        // One certificate for the HTTPS listener and (on an origin) the control API, read again at each reload.
        let tls = try Self.serverTLS(config: config, entry: entry)
        let fleet = LiveFleet(try Self.fleetSnapshot(config: config, entry: entry, state: state))
        self.fleet = fleet
        var settings = try Self.serverSettings(config: config, entry: entry, tls: tls, overrides: overrides, state: state, fleet: fleet)
        settings.metrics = metrics
        settings.onListening = { readiness.listening("http") }
        settings.fleet = fleet
        let flagFile = EmergencyFlagFile(content: entry.content, check: fleet.snapshot.emergencyCheck
                                         ?? EmergencyFlagCheck(fleet: config.fleetName, operatorKeys: []))
        // A restarted node is in the mode it kept from the first request on (gossip then brings anything newer).
        let kept = entry.gossip == nil ? nil : flagFile.load(logger: logger)
        if let kept, let flag = EmergencyRecord.flag(kept) { state.noteEmergency(on: flag.on) }
        let reporter = try Self.viewReporter(config: config, entry: entry, fleet: fleet, state: state, logger: logger)
        settings.views = reporter?.recorder
        let server = try HTTPServer(settings: settings, logger: logger)
        self.server = server
        let gossip = Self.gossipSettings(config: config, entry: entry).map { settings in
            var settings = settings
            settings.recordValidator = EmergencyRecord.validator(current: { fleet.snapshot.emergencyCheck })
            settings.initialRecords = kept.map { [$0] } ?? []
            settings.onListening = { readiness.listening("gossip") }
            return GossipService(settings: settings, health: { state.sampleHealth() }, logger: logger)
        }
        self.gossip = gossip
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
            royalty.reportKeys.replace(Self.reportKeys(config: config, logger: logger))
            reportKeys = royalty.reportKeys
            services += try ControlModule.services(address: address, tls: tls, settings: ledger, royalty: royalty, logger: logger,
                                                   onListening: { readiness.listening("control") })
        } else {
            ledgerLock = nil
            reportKeys = nil
        }
        runFiles = overrides.reloadOnHangup ? RunFiles(content: entry.content, node: entry.name) : nil
        let reportKeysBox = reportKeys
        let reloader = ConfigReloader(config: config, node: entry.name, commandLineLevel: overrides.logLevel, logLevel: logLevel,
                                      notifier: notifier, statusFile: RunFiles(content: entry.content, node: entry.name), logger: logger) { config, entry, changes in
            try Self.apply(config: config, entry: entry, changes: changes, state: state, fleet: fleet, server: server, tls: tls,
                           gossip: gossip, reportKeys: reportKeysBox, logger: logger)
        }
        self.reloader = reloader
        services.append(ServingMonitor(state: state, loopsRespond: { await server.eventLoopsRespond(within: $0) }, logger: logger))
        services.append(NodeLifecycle(notifier: notifier, reloadOnHangup: overrides.reloadOnHangup, reload: { _ = reloader.reload() },
                                      loopsRespond: { timeout in
                                          let data = await server.eventLoopsRespond(within: timeout)
                                          let gossiping = await gossip?.eventLoopResponds(within: timeout) ?? true
                                          return data && gossiping
                                      }, logger: logger))
        group = ServiceGroup(services: services, gracefulShutdownSignals: overrides.gracefulShutdownSignals, logger: logger)
    }

    /// Runs every service of the node until graceful shutdown (a signal, or the enclosing service group) or
    /// cancellation; the first service to fail stops the others and its error is thrown.
    public func run() async throws {
        runFiles?.writePID()
        defer { runFiles?.removePID() }
        try await group.run()
    }

    /// Stops the node as a signal would.
    public func stop() async {
        await group.triggerGracefulShutdown()
    }

    /// Re-reads `nodes.conf` and puts in force what changed (`ConfigChanges.applied`); what needs a restart is kept
    /// and logged. An invalid file (or one without this node) is refused, logged, and the configuration in force kept,
    /// as `nginx -s reload` does. Connections and fills in progress are not touched. The outcome is also written to
    /// `<content>/.edgenode-NAME.reload` for `edgenode reload`.
    @discardableResult
    public func reload() -> ReloadOutcome { reloader.reload() }

    /// Puts a checked configuration in force: everything is built (and may fail) before anything is replaced.
    private static func apply(config: NodesConfig, entry: NodesConfig.Node, changes: ConfigChanges, state: NodeState, fleet: LiveFleet,
                              server: HTTPServer, tls: ServerTLS?, gossip: GossipService?, reportKeys: ReportKeys?, logger: Logger) throws {
        let snapshot = try fleetSnapshot(config: config, entry: entry, state: state)
        let parents = try parentAddresses(config: config, entry: entry)
        let keys = reportKeys.map { _ in Self.reportKeys(config: config, logger: logger) }
        // Certificates are read again at every reload (a rotated file keeps its name); new connections, to the data
        // plane and the control API, take them.
        if let tls, let certificate = entry.tlsCertificate, let key = entry.tlsKey {
            do {
                try tls.reload(certificate: certificate, key: key)
            } catch {
                throw RuntimeError(description: "\(config.path): node \(entry.name): \(error)")
            }
        }
        fleet.replace(snapshot)
        if let edge = server.edge {
            if changes.applied.contains("parents") || changes.applied.contains("tls_ca") || config.tlsCA != nil {
                // With a fleet CA, the CA file is read again at each reload (a rotated CA takes effect).
                edge.parents.replace(parents: parents, forgiving: changes.applied.contains("tls_ca"))
            }
            if changes.applied.contains("cache_size") {
                let evicted = edge.cache.resize(capacityBytes: entry.cacheSizeBytes)
                logger.notice("cache budget changed", metadata: ["capacity": "\(entry.cacheSizeBytes)", "evicted": "\(evicted.count)"])
            }
        }
        if let keys { reportKeys?.replace(keys) }
        if changes.applied.contains("nodes"), let fleet = gossipSettings(config: config, entry: entry)?.fleet {
            gossip?.replaceRoster(fleet)
        }
        gossip?.reloadKeyring()
        server.accessLog?.reopen()
    }

    /// The reloadable part of the configuration the data plane reads per request.
    private static func fleetSnapshot(config: NodesConfig, entry: NodesConfig.Node, state: NodeState) throws -> LiveFleet.Snapshot {
        var router: ViewerRouter?
        if entry.gossip != nil {
            let geoip: GeoIPDatabase?
            do {
                geoip = try config.routing.geoipDatabase.map { path throws(GeoIPDatabase.OpenError) in try GeoIPDatabase(path: path) }
            } catch {
                throw RuntimeError(description: "\(config.path): routing.geoip_db: \(error)")
            }
            router = ViewerRouter(config: config, me: entry, state: state, geoip: geoip)
        }
        let operatorKeys: [NoteVerifier]
        do {
            operatorKeys = try config.loadOperatorKeys()
        } catch {
            throw RuntimeError(description: "\(error)")
        }
        let check = EmergencyFlagCheck(fleet: config.fleetName, operatorKeys: operatorKeys,
                                       maximumSkewSeconds: config.emergencyMaximumSkewSeconds)
        let operators: OperatorAccess
        do {
            operators = try config.operators.access(configPath: config.path)
        } catch {
            throw RuntimeError(description: "\(error)")
        }
        let fleetAuth: FleetRequestAuth?
        do {
            fleetAuth = try config.gossipKeyring.map { path throws(KeyringFileError) in 
                FleetRequestAuth(keyring: try KeyringFile.load(path), nodes: Set(config.nodes.map(\.name)))
            }
        } catch {
            throw RuntimeError(description: "\(config.path): fleet.gossip_keyring: \(error)")
        }
        return LiveFleet.Snapshot(router: router, fleetHosts: Set(config.nodes.compactMap { IPAddress($0.http.host) }),
                                  emergencyCheck: entry.gossip != nil ? check : nil, operators: operators, fleetAuth: fleetAuth,
                                  control: entry.reportToken == nil ? nil : try controlTarget(config: config))
    }

    /// The fleet's control API as a reporting node reaches it: over HTTPS when its origin has a certificate.
    private static func controlTarget(config: NodesConfig) throws -> LiveFleet.ControlTarget? {
        guard let origin = config.controlNode, let address = origin.control else { return nil }
        guard origin.tlsCertificate != nil else { return LiveFleet.ControlTarget(address: address, tls: nil) }
        do {
            return LiveFleet.ControlTarget(address: address, tls: try ClientTLS.trusting(config.tlsCA))
        } catch {
            throw RuntimeError(description: "\(config.path): fleet.tls_ca: \(error)")
        }
    }

    /// The node's server certificate and key (`tls_cert`, `tls_key`), checked now.
    private static func serverTLS(config: NodesConfig, entry: NodesConfig.Node) throws -> ServerTLS? {
        guard let certificate = entry.tlsCertificate, let key = entry.tlsKey else { return nil }
        do {
            return try ServerTLS(certificate: certificate, key: key)
        } catch {
            throw RuntimeError(description: "\(config.path): node \(entry.name): \(error)")
        }
    }

    /// The node's parents as fill targets (loading checked that each is a node of the fleet): with `[fleet] tls_ca`,
    /// a parent that has an `https` address is filled from over HTTPS, verified against the CA (read afresh).
    private static func parentAddresses(config: NodesConfig, entry: NodesConfig.Node) throws -> [ParentAddress] {
        let tls: ClientTLS?
        do {
            tls = try config.tlsCA.map { path throws(TLSError) in try ClientTLS(certificateAuthority: path) }
        } catch {
            throw RuntimeError(description: "\(config.path): fleet.tls_ca: \(error)")
        }
        return entry.parents.compactMap { name in config.nodes.first { $0.name == name } }.map { parent in
            if let tls, let https = parent.https { return ParentAddress(name: parent.name, address: https, isPeer: parent.role == .mesh, tls: tls) }
            return ParentAddress(name: parent.name, address: parent.http, isPeer: parent.role == .mesh)
        }
    }

    /// Every node's delivery-report key (`report_key` + `.pub`) as the origin checks them; an unreadable one is logged
    /// and left out (that node's reports are refused).
    private static func reportKeys(config: NodesConfig, logger: Logger) -> [String: NoteVerifier] {
        var keys: [String: NoteVerifier] = [:]
        for node in config.nodes {
            guard let key = node.reportKey else { continue }
            do {
                keys[node.name] = try KeyStore.loadVerifier(path: key + ".pub")
            } catch {
                logger.error("a node's report key cannot be read: its delivery reports will be refused", metadata: ["node": "\(node.name)", "error": "\(error)"])
            }
        }
        return keys
    }

    private static func serverSettings(config: NodesConfig, entry: NodesConfig.Node, tls: ServerTLS?, overrides: NodeOverrides,
                                       state: NodeState, fleet: LiveFleet) throws -> ServerSettings {
        var settings = ServerSettings(listen: entry.http, root: entry.content)
        settings.node = state
        settings.accessLog = entry.accessLog.map { ($0, entry.accessLogFormat) }
        if let https = entry.https, let tls { settings.https = (https, tls) }
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
            var edge = EdgeSettings(nodeName: entry.name, parents: try parentAddresses(config: config, entry: entry), verifier: verifier, cacheSizeBytes: entry.cacheSizeBytes,
                                    prefetch: entry.prefetch, manifestTTLSeconds: entry.manifestTTLSeconds)
            edge.upstreamTimeoutSeconds = Int64(entry.upstreamTimeoutSeconds)
            // A viewer waits through at least one failover to the next parent.
            edge.waitTimeoutSeconds = max(10, 2 * Int64(entry.upstreamTimeoutSeconds) + 1)
            edge.isDown = { [weak state] parent in state?.isDown(parent) ?? false }
            let name = entry.name
            edge.fleetProof = { path in fleet.snapshot.fleetAuth?.proof(node: name, path: path, now: Int64(Date().timeIntervalSince1970)) }
            settings.edge = edge
        }
        return settings
    }

    /// The view counter and its reporter of a node with `report_key` and `report_token`: the salt's secret is the
    /// fleet's gossip key (shared, so the origin can count a viewer served by several nodes once; the node's own kept
    /// secret without gossip), the counts of open periods saved before a restart are taken back.
    private static func viewReporter(config: NodesConfig, entry: NodesConfig.Node, fleet: LiveFleet, state: NodeState,
                                     logger: Logger) throws -> ViewReporter? {
        guard let keyPath = entry.reportKey, let tokenPath = entry.reportToken else { return nil }
        let signer = try KeyStore.loadSigner(path: keyPath + ".key")
        let token = String(decoding: try AtomicFile.read(tokenPath, limit: 4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let spool = try ViewSpool(content: entry.content)
        // Without a fleet keyring the node keeps its own secret (a viewer is then counted per node).
        let secret = try config.gossipKeyring.map { try KeyringFile.load($0).primary.bytes } ?? spool.nodeSecret()
        let recorder = ViewRecorder(node: entry.name, secret: secret, settings: config.royalty.counterSettings,
                                    isFleetRequest: { NodeEndpoints.isFleetRequest($0, auth: fleet.snapshot.fleetAuth) })
        let (saved, unreadable) = spool.loadOpen(node: entry.name)
        recorder.restore(saved)
        if !unreadable.isEmpty { logger.error("saved view counts unreadable, set aside", metadata: ["files": "\(unreadable)"]) }
        let client: @Sendable () -> ControlClient? = {
            fleet.snapshot.control.map { ControlClient(host: $0.address.host, port: $0.address.port, token: token, tls: $0.tls) }
        }
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
