import Logging
import ServiceLifecycle

/// Signs a checkpoint every `interval` when the log grew (and once more on shutdown, so a clean stop leaves the
/// whole log signed).
public struct CheckpointService: Service {
    let ledger: LedgerModule
    let interval: Duration

    public init(ledger: LedgerModule, interval: Duration) {
        self.ledger = ledger
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            sign()
        }
    }

    private func sign() {
        do {
            try ledger.issueCheckpoint()
        } catch {
            ledger.logger.error("ledger checkpoint failed", metadata: ["error": "\(error)"])
        }
        LedgerMetrics().update(ledger.store)
    }
}
