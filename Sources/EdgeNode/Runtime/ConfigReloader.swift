import Foundation
import Logging
import Metrics
import Synchronization

/// What one reload did: written to `<content>/.edgenode-NAME.reload` (JSON) for `edgenode reload`, counted in metrics.
public struct ReloadOutcome: Codable, Sendable, Equatable {
    /// The process that reloaded.
    public var pid: Int32
    /// Reloads of this process so far, this one included.
    public var generation: Int
    /// Whether the new file is in force.
    public var reloaded: Bool
    /// Why the file was refused (the configuration in force was kept).
    public var error: String?
    /// `ConfigChanges.applied` and `.needRestart` (empty when refused).
    public var applied: [String]
    public var needRestart: [String]
}

/// Re-reads `nodes.conf` for one node and puts it in force through `apply`, one reload at a time, telling systemd
/// (`RELOADING=1` … `READY=1`), the log, the metrics and the status file how it went.
final class ConfigReloader: Sendable {
    /// Builds everything a checked configuration needs, then replaces the running parts; throws (changing nothing) when
    /// something the file names cannot be used (a key file, the GeoIP database).
    typealias Apply = @Sendable (NodesConfig, NodesConfig.Node, ConfigChanges) throws -> Void

    let logger: Logger
    private let node: String
    private let commandLineLevel: Logger.Level?
    private let logLevel: LogLevelSwitch?
    private let notifier: SystemdNotifier
    private let statusFile: RunFiles
    private let apply: Apply
    /// The configuration in force and the reloads so far; held for a whole reload, so reloads never interleave.
    private let current: Mutex<(config: NodesConfig, generation: Int)>
    private let succeeded = Counter(label: "edgenode_config_reloads_total", dimensions: [("outcome", "success")])
    private let failed = Counter(label: "edgenode_config_reloads_total", dimensions: [("outcome", "failure")])
    private let lastSuccessful = Gauge(label: "edgenode_config_last_reload_successful")
    private let lastSuccessTime = Gauge(label: "edgenode_config_last_reload_success_timestamp_seconds")

    init(config: NodesConfig, node: String, commandLineLevel: Logger.Level?, logLevel: LogLevelSwitch?, notifier: SystemdNotifier,
         statusFile: RunFiles, logger: Logger, apply: @escaping Apply) {
        current = Mutex((config, 0))
        self.node = node
        self.commandLineLevel = commandLineLevel
        self.logLevel = logLevel
        self.notifier = notifier
        self.statusFile = statusFile
        self.logger = logger
        self.apply = apply
        lastSuccessful.record(1)
        lastSuccessTime.record(Date().timeIntervalSince1970.rounded(.down))
    }

    /// The configuration in force.
    var config: NodesConfig { current.withLock { $0.config } }

    func reload() -> ReloadOutcome {
        notifier.send(SystemdNotifier.reloading())
        let outcome = current.withLock { current -> ReloadOutcome in
            current.generation += 1
            var outcome = ReloadOutcome(pid: getpid(), generation: current.generation, reloaded: false, error: nil, applied: [], needRestart: [])
            do {
                let (config, changes) = try load(after: current.config)
                current.config = config
                outcome.reloaded = true
                outcome.applied = changes.applied
                outcome.needRestart = changes.needRestart
            } catch {
                outcome.error = "\(error)"
            }
            return outcome
        }
        if outcome.reloaded {
            succeeded.increment()
            lastSuccessful.record(1)
            lastSuccessTime.record(Date().timeIntervalSince1970.rounded(.down))
            logger.notice("configuration reloaded", metadata: [
                "applied": "\(outcome.applied.isEmpty ? "nothing changed" : outcome.applied.joined(separator: ","))"])
            if !outcome.needRestart.isEmpty {
                logger.warning("changed settings kept until a restart", metadata: ["settings": "\(outcome.needRestart.joined(separator: ","))"])
            }
        } else {
            failed.increment()
            lastSuccessful.record(0)
            logger.error("configuration not reloaded; keeping the one in force", metadata: ["error": "\(outcome.error ?? "")"])
        }
        do {
            try statusFile.writeReload(outcome)
        } catch {
            logger.warning("cannot write the reload status file", metadata: ["error": "\(error)"])
        }
        notifier.send(["READY=1", "STATUS=" + (outcome.reloaded ? "serving (reload \(outcome.generation))" : "serving (reload \(outcome.generation) refused)")])
        return outcome
    }

    /// The new file, checked and put in force; throws (with nothing changed) when it cannot be.
    private func load(after old: NodesConfig) throws -> (NodesConfig, ConfigChanges) {
        logger.debug("re-reading the configuration", metadata: ["path": "\(old.path)"])
        let config = try NodesConfig.load(path: old.path)
        let entry = try config.node(named: node)
        let changes = ConfigChanges(from: old, to: config, node: node)
        try apply(config, entry, changes)
        if let logLevel {
            let level = commandLineLevel ?? entry.logLevel ?? .info
            if logLevel.level != level { logLevel.level = level }
        }
        return (config, changes)
    }
}
