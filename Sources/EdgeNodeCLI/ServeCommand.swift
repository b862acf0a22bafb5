import ArgumentParser
import EdgeNode
import Foundation
import Logging
import Metrics
import Prometheus

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a node: serve its content over HTTP/1.1 (SIGTERM/SIGINT stop it gracefully, SIGHUP reloads nodes.conf).",
        discussion: """
            Either --config nodes.conf --node NAME (a node of the fleet), or --root DIR --listen ADDR:PORT to serve
            one directory on its own. Under systemd (Type=notify) the node reports READY=1 once listening,
            RELOADING=1/READY=1 around a reload, STOPPING=1, and WATCHDOG=1 when WatchdogSec is set.
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

    @Option(name: .long, help: "With --root: also serve HTTPS on host:port (needs --tls-cert and --tls-key).")
    var https: String?

    @Option(name: .customLong("tls-cert"), help: "With --https: PEM certificate chain, leaf first.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "With --https: PEM private key (mode 0600).")
    var tlsKey: String?

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

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default: the node's log_level, else info).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "auto, text, journal or json (auto: journal when stderr is systemd's journal, else text).")
    var logFormat: String = "auto"

    func run() async throws {
        let level = logLevel.flatMap { Logger.Level(rawValue: $0) }
        if let logLevel, level == nil {
            printError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(logLevel)\"")
            throw ExitCode(2)
        }
        let format: LogFormat
        if logFormat == "auto" {
            format = .automatic()
        } else if let given = LogFormat(rawValue: logFormat) {
            format = given
        } else {
            printError("--log-format must be auto, text, journal or json, not \"\(logFormat)\"")
            throw ExitCode(2)
        }
        let levelSwitch = LogLevelSwitch(level ?? .info)
        LoggingSystem.bootstrap { label in NodeLogHandler(label: label, format: format, level: levelSwitch) }
        let logger = Logger(label: "edgenode")
        let fleet: NodesConfig, name: String, overrides: NodeOverrides
        do {
            (fleet, name) = try configuration()
            overrides = try self.overrides(level: level)
        } catch let error as ValidationError {
            printError(error.message)
            throw ExitCode(2)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DocumentedMetricsFactory(registry: registry))
        BuildInfo.record()
        let runtime: NodeRuntime
        do {
            runtime = try NodeRuntime(config: fleet, node: name, overrides: overrides, metrics: registry, logLevel: levelSwitch, logger: logger)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        do {
            try await runtime.run()
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    /// The fleet and which node of it this process is (a one-node fleet for --root/--listen).
    private func configuration() throws -> (NodesConfig, String) {
        switch (config, node, root, listen) {
        case (let config?, let node?, nil, nil) where https == nil && tlsCert == nil && tlsKey == nil:
            do {
                let fleet = try NodesConfig.load(path: config)
                _ = try fleet.node(named: node)
                return (fleet, node)
            } catch {
                throw ValidationError("\(error)")
            }
        case (nil, nil, let root?, let listen?):
            guard let address = SocketAddressSpec(listen) else {
                throw ValidationError("--listen must be host:port with a port in 1...65535, not \"\(listen)\"")
            }
            var tls: (address: SocketAddressSpec, certificate: String, key: String)?
            switch (https, tlsCert, tlsKey) {
            case (nil, nil, nil):
                break
            case (let https?, let certificate?, let key?):
                guard let secure = SocketAddressSpec(https) else {
                    throw ValidationError("--https must be host:port with a port in 1...65535, not \"\(https)\"")
                }
                tls = (secure, certificate, key)
            default:
                throw ValidationError("--https, --tls-cert and --tls-key go together")
            }
            return (NodesConfig.standalone(root: root, listen: address, https: tls), NodesConfig.standaloneNode)
        default:
            throw ValidationError("use either --config FILE --node NAME, or --root DIR --listen ADDR:PORT")
        }
    }

    private func overrides(level: Logger.Level?) throws -> NodeOverrides {
        var overrides = NodeOverrides()
        overrides.logLevel = level
        overrides.reloadOnHangup = config != nil
        if let threads {
            guard (1...256).contains(threads) else { throw ValidationError("--threads must be within 1...256") }
            overrides.threads = threads
        }
        if let maxConnections {
            guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be within 1...1000000") }
            overrides.maxConnections = maxConnections
        }
        for (value, name) in [(headTimeout, "--head-timeout"), (sendTimeout, "--send-timeout"), (idleTimeout, "--idle-timeout"),
                              (drainTimeout, "--drain-timeout")] {
            if let value, !(1...3600).contains(value) { throw ValidationError("\(name) must be within 1...3600 seconds") }
        }
        overrides.headTimeoutSeconds = headTimeout
        overrides.sendTimeoutSeconds = sendTimeout
        overrides.idleTimeoutSeconds = idleTimeout
        overrides.drainTimeoutSeconds = drainTimeout
        overrides.originKey = pubkey
        overrides.gracefulShutdownSignals = [.sigterm, .sigint]
        return overrides
    }
}
