import Foundation
import Ledger

/// Group commit: concurrent requests are batched into one SQLite transaction (at most `maximumBatch` transfers), and
/// each request is answered only once its batch is durable. While one transaction is being written, the next batch
/// gathers; when it is done, whatever waits is written at once (no added delay by default: `maximumDelay` trades
/// latency for larger batches when requests trickle in).
public actor GroupCommitter {
    public struct Settings: Sendable {
        public var maximumBatch = 512
        public var maximumDelay: Duration = .zero
        /// Told the size of each batch once it is durable (metrics).
        public var batchCommitted: (@Sendable (Int) -> Void)?
        public init() {}
    }

    private let store: LedgerStore
    private let settings: Settings
    private let clock: @Sendable () -> Int64
    private var pending: [(transfer: Transfer, answer: CheckedContinuation<LedgerBook.Outcome, Error>)] = []
    private var writing = false
    private let writer = DispatchQueue(label: "edgenode.ledger.group-commit")
    /// Transactions written so far, and transfers in them (for metrics and tests).
    public private(set) var transactions = 0
    public private(set) var batched = 0

    /// `clock` gives the commit time in milliseconds since the epoch.
    public init(store: LedgerStore, settings: Settings = Settings(),
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.store = store
        self.settings = settings
        self.clock = clock
    }

    /// Commits `transfer` (or finds it already committed under its key); returns when that is durable. Throws the
    /// transfer's `LedgerError` (conflict, negative balance) or a `StoreError`.
    public func submit(_ transfer: Transfer) async throws -> LedgerBook.Outcome {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((transfer, continuation))
            if !writing {
                writing = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            if pending.count < settings.maximumBatch && settings.maximumDelay > .zero {
                try? await Task.sleep(for: settings.maximumDelay)
            }
            let batch = Array(pending.prefix(settings.maximumBatch))
            pending.removeFirst(batch.count)
            let store = store, time = clock()
            let transfers = batch.map(\.transfer)
            // Written on the committer's own queue: no thread of Swift's cooperative pool waits on fsync.
            let outcome = await withCheckedContinuation { continuation in
                writer.async { continuation.resume(returning: Result { () throws(StoreError) in try store.commit(transfers, at: time) }) }
            }
            transactions += 1
            batched += batch.count
            settings.batchCommitted?(batch.count)
            switch outcome {
            case .success(let results):
                for (request, result) in zip(batch, results) {
                    switch result {
                    case .success(let done): request.answer.resume(returning: done)
                    case .failure(let refusal): request.answer.resume(throwing: refusal)
                    }
                }
            case .failure(let error):
                for request in batch { request.answer.resume(throwing: error) }
            }
        }
        writing = false
    }
}
