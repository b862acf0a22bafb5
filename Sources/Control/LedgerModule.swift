import Foundation
import Ledger
import LedgerStore
import Logging
import Manifest

/// The ledger as the origin runs it: the store, its group committer, and what signs checkpoints.
public struct LedgerModule: Sendable {
    /// The checkpoint origin line of the ledger's log unless told otherwise.
    public static let defaultLogOrigin = "edgenode.ledger"

    public let store: LedgerStore
    public let committer: GroupCommitter
    let signer: NoteSigner
    /// The checkpoint origin line (the log's name).
    public let logOrigin: String
    let anchors: [any CheckpointAnchor]
    let logger: Logger

    public init(store: LedgerStore, committer: GroupCommitter, signer: NoteSigner, logOrigin: String,
                anchors: [any CheckpointAnchor], logger: Logger) {
        self.store = store
        self.committer = committer
        self.signer = signer
        self.logOrigin = logOrigin
        self.anchors = anchors
        self.logger = logger
    }

    /// Signs a checkpoint if the log grew since the last one; returns whether one was issued. An anchor failing is
    /// logged (the checkpoint stands; the next one is anchored again).
    @discardableResult
    public func issueCheckpoint() throws -> Bool {
        let note: SignedNote?
        do {
            note = try store.issueCheckpoint(signer: signer, origin: logOrigin, at: Int64(Date().timeIntervalSince1970 * 1000))
        } catch let error as StoreError {
            throw ControlAPI.unavailable(error)
        }
        guard let note else { return false }
        let checkpoint = try? Checkpoint(text: note.text)
        logger.info("ledger checkpoint signed", metadata: ["size": "\(checkpoint?.size ?? -1)", "root": "\(checkpoint?.root.hex ?? "")"])
        for anchor in anchors {
            do {
                try anchor.anchor(note)
            } catch {
                logger.error("checkpoint anchor failed", metadata: ["anchor": "\(type(of: anchor))", "error": "\(error)"])
            }
        }
        return true
    }
}
