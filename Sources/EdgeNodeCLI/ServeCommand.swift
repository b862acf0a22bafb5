import ArgumentParser
import Dispatch
import Control
import EdgeNode
import Foundation
import Gossip
import Logging
import NIOConcurrencyHelpers
import Manifest
import Metrics
import Prometheus
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a node: serve its content over HTTP/1.1 (SIGTERM/SIGINT stop it gracefully).",
        discussion: """
            Either --config nodes.conf --node NAME (a node of the fleet), or --root DIR --listen ADDR:PORT to serve
            one directory on its own.
            """
    )

    @Option(name: .long, help: "The fleet's nodes.conf.")
    var config: String?

    @Option(name: .long, help: "Which node of nodes.conf this process is.")
    var node: String?

    @Option(name: .long, help: "Serve this directory standalone (no nodes.conf).")
    var root: String?

    @Option(name: .long, help: "Listen address for --root, host:port.")
    var listen: String?

    @Option(name: .long, help: "Event loop threads (default: nodes.conf, else one per core).")
    var threads: Int?

    @Option(name: .long, help: "The origin's public key: manifests are checked before their ETags are used.")
    var pubkey: String?

    @Option(name: .customLong("max-connections"), help: "Connections beyond this are closed on accept.")
    var maxConnections: Int?

    @Option(name: .customLong("head-timeout"), help: "Seconds a request (head and body) may take to arrive from its first byte (slowloris guard).")
    var headTimeout: Int64?

    @Option(name: .customLong("send-timeout"), help: "Seconds a response may go without its client acknowledging 256 bytes a second.")
    var sendTimeout: Int64?

    @Option(name: .customLong("idle-timeout"), help: "Seconds an idle keep-alive connection is kept.")
    var idleTimeout: Int64?

    @Option(name: .customLong("drain-timeout"), help: "Seconds in-flight responses get to finish on shutdown.")
    var drainTimeout: Int64?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            printError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            throw ExitCode(2)
        }
        var settings: ServerSettings
        var gossip: GossipNodeSettings?
        var control: (address: SocketAddressSpec, ledger: NodesConfig.LedgerSettings)?
        var logger = Logger(label: "edgenode")
        logger.logLevel = level
        do {
            (settings, gossip, control) = try makeSettings(&logger)
        } catch let error as ValidationError {
            printError(error.message)
            throw ExitCode(2)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        settings.metrics = registry
        // The gossip service samples the data plane's health; the data plane shows the gossip view at /cluster.
        let serverBox = NIOLockedValueBox<HTTPServer?>(nil)
        let sampler = NIOLockedValueBox(HealthSampler())
        let gossipService = gossip.map { gossip in
            GossipService(settings: gossip, health: {
                guard let server = serverBox.withLockedValue({ $0 }) else { return NodeHealth() }
                let connections = server.connections
                return sampler.withLockedValue {
                    $0.sample(server.trafficTotals, now: DispatchTime.now().uptimeNanoseconds, connections: connections.open,
                              maxConnections: connections.limit)
                }
            }, logger: logger)
        }
        if let gossipService { settings.cluster = { gossipService.snapshot() } }
        let server: HTTPServer
        do {
            server = try HTTPServer(settings: settings, logger: logger)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        serverBox.withLockedValue { $0 = server }
        var services: [any Service] = [server] + (gossipService.map { [$0] } ?? [])
        var ledgerLock: DirectoryLock?
        if let control {
            do {
                // One control module per ledger: a second origin process on the same database fails here.
                let database = URL(fileURLWithPath: control.ledger.database)
                try FileManager.default.createDirectory(at: database.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
                ledgerLock = try DirectoryLock(directory: database.deletingLastPathComponent().path,
                                               fileName: "." + database.lastPathComponent + ".lock")
                services += try ControlModule.services(address: control.address, settings: control.ledger, logger: logger)
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do {
            try await group.run()
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        withExtendedLifetime(ledgerLock) {}
    }

    private func makeSettings(_ logger: inout Logger) throws
        -> (ServerSettings, GossipNodeSettings?, (address: SocketAddressSpec, ledger: NodesConfig.LedgerSettings)?) {
        var settings: ServerSettings
        var gossip: GossipNodeSettings?
        var control: (address: SocketAddressSpec, ledger: NodesConfig.LedgerSettings)?
        var keyPath = pubkey
        switch (config, node, root, listen) {
        case (let config?, let node?, nil, nil):
            let fleet: NodesConfig
            let entry: NodesConfig.Node
            do {
                fleet = try NodesConfig.load(path: config)
                entry = try fleet.node(named: node)
            } catch {
                throw ValidationError("\(error)")
            }
            settings = ServerSettings(listen: entry.http, root: entry.content)
            if let threads = entry.threads { settings.threads = threads }
            if let limit = entry.maxConnections { settings.maxConnections = limit }
            keyPath = keyPath ?? entry.originKey
            if entry.role != .origin {
                guard let keyPath else { throw ValidationError("node \(entry.name) has no origin_key") }
                let verifier: NoteVerifier
                do {
                    verifier = try KeyStore.loadVerifier(path: keyPath)
                } catch {
                    throw ValidationError("\(error)")
                }
                // Loading checked that every parent is a node of the fleet.
                let parents = entry.parents.compactMap { name in fleet.nodes.first { $0.name == name } }
                    .map { ParentAddress(name: $0.name, address: $0.http, isPeer: $0.role == .mesh) }
                settings.edge = EdgeSettings(nodeName: entry.name, parents: parents, verifier: verifier, cacheSizeBytes: entry.cacheSizeBytes,
                                             prefetch: entry.prefetch, manifestTTLSeconds: entry.manifestTTLSeconds)
                settings.edge?.upstreamTimeoutSeconds = Int64(entry.upstreamTimeoutSeconds)
                // A viewer waits through at least one failover to the next parent.
                settings.edge?.waitTimeoutSeconds = max(10, 2 * Int64(entry.upstreamTimeoutSeconds) + 1)
            }
            if let address = entry.gossip, let keyring = fleet.gossipKeyring {
                let others = fleet.nodes.filter { $0.name != entry.name && $0.gossip != nil }
                gossip = GossipNodeSettings(
                    me: Self.memberInfo(entry, gossip: address), fleet: others.map { Self.memberInfo($0, gossip: $0.gossip!) },
                    seeds: fleet.gossipSeeds.compactMap { name in fleet.nodes.first { $0.name == name }?.gossip }
                        .map { GossipAddress(host: $0.host, port: UInt16($0.port)) },
                    keyringPath: keyring, fleetName: fleet.fleetName)
            }
            if let address = entry.control, let ledger = entry.ledger { control = (address, ledger) }
            logger[metadataKey: "node"] = "\(entry.name)"
            logger[metadataKey: "role"] = "\(entry.role.rawValue)"
        case (nil, nil, let root?, let listen?):
            guard let address = SocketAddressSpec(listen) else {
                throw ValidationError("--listen must be host:port with a port in 1...65535, not \"\(listen)\"")
            }
            settings = ServerSettings(listen: address, root: root)
        default:
            throw ValidationError("use either --config FILE --node NAME, or --root DIR --listen ADDR:PORT")
        }
        if let threads {
            guard (1...256).contains(threads) else { throw ValidationError("--threads must be within 1...256") }
            settings.threads = threads
        }
        if let maxConnections {
            guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be within 1...1000000") }
            settings.maxConnections = maxConnections
        }
        for (value, name) in [(headTimeout, "--head-timeout"), (sendTimeout, "--send-timeout"), (idleTimeout, "--idle-timeout"),
                              (drainTimeout, "--drain-timeout")] {
            if let value, !(1...3600).contains(value) { throw ValidationError("\(name) must be within 1...3600 seconds") }
        }
        settings.headTimeoutSeconds = headTimeout ?? settings.headTimeoutSeconds
        settings.idleTimeoutSeconds = idleTimeout ?? settings.idleTimeoutSeconds
        settings.sendTimeoutSeconds = sendTimeout ?? settings.sendTimeoutSeconds
        settings.drainTimeoutSeconds = drainTimeout ?? settings.drainTimeoutSeconds
        if let keyPath {
            do {
                settings.verifier = try KeyStore.loadVerifier(path: keyPath)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        return (settings, gossip, control)
    }

    static func memberInfo(_ node: NodesConfig.Node, gossip: SocketAddressSpec) -> MemberInfo {
        MemberInfo(name: node.name, role: node.role.rawValue, region: node.region,
                   latitude: Int32((node.latitude * 1_000_000).rounded()), longitude: Int32((node.longitude * 1_000_000).rounded()),
                   http: node.http.description, gossip: GossipAddress(host: gossip.host, port: UInt16(gossip.port)))
    }
}
