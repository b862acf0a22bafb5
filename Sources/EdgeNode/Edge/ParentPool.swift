import Dispatch
import EdgeCache
import Logging
import NIOConcurrencyHelpers

/// A node's parents with their health: which to try in what order, and the record of failures (logged and counted).
final class ParentPool: Sendable {
    private let health: NIOLockedValueBox<(parents: [ParentAddress], health: ParentHealth<String>)>
    private let healthSettings: ParentHealth<String>.Settings
    private let metrics: EdgeMetrics
    private let logger: Logger
    private let isDown: @Sendable (String) -> Bool
    /// Who this node's requests to its parents say they come from.
    let identity: FleetIdentity

    /// - Parameter isDown: whether gossip reports a parent dead or departed.
    init(parents: [ParentAddress], identity: FleetIdentity, metrics: EdgeMetrics, logger: Logger, settings: ParentHealth<String>.Settings = .init(),
         isDown: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.identity = identity
        self.metrics = metrics
        self.logger = logger
        self.isDown = isDown
        healthSettings = settings
        health = NIOLockedValueBox((parents, ParentHealth(parents: parents.map(\.name), settings: settings)))
    }

    /// The parents, in configured order.
    var parents: [ParentAddress] { health.withLockedValue { $0.parents } }

    /// Replaces the parents (a configuration reload): fills already running finish with the parent they have; the
    /// next ones use the new list. A parent listed before at the same address keeps its record (a reload that only
    /// re-reads the fleet CA does not forgive a failing parent); a new or moved one starts healthy, and every one does
    /// when `forgiving` (the fleet CA was changed: failures against the old one say nothing about the parent now).
    func replace(parents: [ParentAddress], forgiving: Bool = false) {
        health.withLockedValue { current in
            let unchanged = forgiving ? [] : Set(parents.filter { current.parents.contains($0) }.map(\.name))
            current = (parents, current.health.replacingParents(parents.map(\.name), keeping: unchanged))
        }
    }

    /// Parents to try now: healthy ones in configured order, then those serving a penalty, then those gossip reports
    /// down (still tried last: gossip may be partitioned from a parent the node can reach).
    func order() -> [ParentAddress] {
        let (names, parents) = health.withLockedValue { ($0.health.order(now: DispatchTime.now().uptimeNanoseconds), $0.parents) }
        let ordered = names.compactMap { name in parents.first { $0.name == name } }
        let down = ordered.filter { isDown($0.name) }
        return down.isEmpty ? ordered : ordered.filter { !isDown($0.name) } + down
    }

    /// `parent` failed a request about `path`: it is marked bad for a while.
    func failed(_ parent: ParentAddress, path: String, reason: String, detail: String) {
        metrics.parentFailed(parent.name, reason: reason)
        let penalty = health.withLockedValue { $0.health.failed(parent.name, now: DispatchTime.now().uptimeNanoseconds) }
        logger.warning("parent failed; marked bad", metadata: [
            "parent": "\(parent.name)", "path": "\(path)", "reason": "\(reason)", "detail": "\(detail)",
            "penalty-seconds": "\(penalty / 1_000_000_000)"])
    }

    /// `parent` delivered verified data.
    func succeeded(_ parent: ParentAddress) {
        metrics.parentFetched(parent.name, outcome: "ok")
        health.withLockedValue { $0.health.succeeded(parent.name) }
    }
}
