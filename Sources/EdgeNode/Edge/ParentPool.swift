import Dispatch
import EdgeCache
import Logging
import NIOConcurrencyHelpers

/// A node's parents with their health: which to try in what order, and the record of failures (logged and counted).
final class ParentPool: Sendable {
    let parents: [ParentAddress]
    private let health: NIOLockedValueBox<ParentHealth<String>>
    private let metrics: EdgeMetrics
    private let logger: Logger
    private let isDown: @Sendable (String) -> Bool

    /// - Parameter isDown: whether gossip reports a parent dead or departed.
    init(parents: [ParentAddress], metrics: EdgeMetrics, logger: Logger, settings: ParentHealth<String>.Settings = .init(),
         isDown: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.parents = parents
        self.metrics = metrics
        self.logger = logger
        self.isDown = isDown
        health = NIOLockedValueBox(ParentHealth(parents: parents.map(\.name), settings: settings))
    }

    /// Parents to try now: healthy ones in configured order, then those serving a penalty, then those gossip reports
    /// down (still tried last: gossip may be partitioned from a parent the node can reach).
    func order() -> [ParentAddress] {
        let names = health.withLockedValue { $0.order(now: DispatchTime.now().uptimeNanoseconds) }
        let ordered = names.compactMap { name in parents.first { $0.name == name } }
        let down = ordered.filter { isDown($0.name) }
        return down.isEmpty ? ordered : ordered.filter { !isDown($0.name) } + down
    }

    /// `parent` failed a request about `path`: it is marked bad for a while.
    func failed(_ parent: ParentAddress, path: String, reason: String, detail: String) {
        metrics.parentFailed(parent.name, reason: reason)
        let penalty = health.withLockedValue { $0.failed(parent.name, now: DispatchTime.now().uptimeNanoseconds) }
        logger.warning("parent failed; marked bad", metadata: [
            "parent": "\(parent.name)", "path": "\(path)", "reason": "\(reason)", "detail": "\(detail)",
            "penalty-seconds": "\(penalty / 1_000_000_000)"])
    }

    /// `parent` delivered verified data.
    func succeeded(_ parent: ParentAddress) {
        health.withLockedValue { $0.succeeded(parent.name) }
    }
}
