import Foundation
import LedgerStore
import Metrics

/// The ledger's gauges and the group commit's batch sizes: `edgenode_ledger_entries`,
/// `edgenode_ledger_checkpoint_timestamp_seconds`, `edgenode_ledger_unsigned_entries` (entries past the last signed
/// checkpoint: with the timestamp, what "checkpoint too old" alerts on), `edgenode_ledger_integrity_ok`,
/// `edgenode_ledger_commit_batch_size`.
public struct LedgerMetrics: Sendable {
    private let entries = Gauge(label: "edgenode_ledger_entries")
    private let unsigned = Gauge(label: "edgenode_ledger_unsigned_entries")
    private let checkpointTime = Gauge(label: "edgenode_ledger_checkpoint_timestamp_seconds")
    private let integrity = Gauge(label: "edgenode_ledger_integrity_ok")
    private let batches = Recorder(label: "edgenode_ledger_commit_batch_size", aggregate: true)

    public init() {}

    /// Reads the store's size, its latest checkpoint and its integrity.
    public func update(_ store: LedgerStore) {
        let size = store.size
        entries.record(size)
        integrity.record(store.integrityProblems.isEmpty ? 1 : 0)
        if let latest = try? store.latestCheckpointTime() {
            checkpointTime.record(Double(latest.createdAt / 1000))
            unsigned.record(max(0, size - latest.size))
        } else {
            unsigned.record(size)
        }
    }

    /// A group-commit batch of `count` transfers is durable in `store`.
    public func committed(_ count: Int, store: LedgerStore) {
        batches.record(count)
        let size = store.size
        entries.record(size)
    }
}
