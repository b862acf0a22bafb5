import Foundation
import Ledger
import Manifest

/// Somewhere checkpoint roots are published outside the ledger's own database, so that rewriting history would also
/// need rewriting the witness (off by default; the origin can be configured with one or more).
public protocol CheckpointAnchor: Sendable {
    /// Publishes one signed checkpoint; throwing is logged and retried with the next checkpoint.
    func anchor(_ note: SignedNote) throws
}

/// The shipped anchor: an append-only local file, one JSON line per checkpoint (`{"note": "<signed note>"}`), fsynced,
/// which can live on another disk or be shipped elsewhere.
public struct FileWitness: CheckpointAnchor {
    public let path: String

    public init(path: String) { self.path = path }

    public func anchor(_ note: SignedNote) throws {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError.database("\(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let line = try JSONEncoder().encode(["note": note.rendered])
        let bytes = Array(line) + [0x0A]
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress!, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw StoreError.database("\(path): cannot append the checkpoint: \(String(cString: strerror(errno)))")
        }
    }

    /// The checkpoints recorded, oldest first.
    public func checkpoints() throws -> [SignedNote] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let record = try JSONDecoder().decode([String: String].self, from: Data(line.utf8))
            guard let note = record["note"] else { throw StoreError.database("\(path): a record without a note") }
            return try SignedNote(parsing: note)
        }
    }
}

extension LedgerStore {
    /// Signs and stores a checkpoint of the whole log (C2SP checkpoint: `origin`, size, root) when it has grown since
    /// the last one (or always, with `force`), and hands it to the anchors. Returns the new checkpoint, if any.
    @discardableResult
    public func issueCheckpoint(signer: NoteSigner, origin: String, at time: Int64, force: Bool = false,
                                anchors: [any CheckpointAnchor] = []) throws -> SignedNote? {
        let size = self.size
        if !force, let (latest, _) = try latestCheckpoint(), latest >= size { return nil }
        let root = self.root(size: size)
        let note = try signer.sign(text: try Checkpoint(origin: origin, size: size, root: root).text)
        try saveCheckpoint(note, size: size, root: root, at: time)
        for anchor in anchors { try anchor.anchor(note) }
        return note
    }

    /// The receipt of `artist` for `[from, to)` against the latest stored checkpoint (entries after it are not
    /// included: they are not signed yet).
    public func receipt(artist: String, from: Int64, to: Int64) throws -> Receipt {
        guard let (size, note) = try latestCheckpoint() else { throw StoreError.invalidRange("no checkpoint has been issued yet") }
        // Only the artist's own entries are read (the per-account index), not the whole log.
        let items = try entryIndexes(accountPrefix: "artist/\(artist)/", below: size)
            .map { index in try entries(from: index, to: index + 1)[0] }
            .filter { $0.concerns(artist: artist) && $0.committedAt >= from && $0.committedAt < to }
            .map { entry in
                Receipt.Item(index: entry.index, leaf: Data(EntryEncoding.encode(entry)).base64EncodedString(),
                             proof: try inclusionProof(index: Int(entry.index), size: size).map(\.hex))
            }
        return Receipt(artist: artist, from: from, to: to, checkpoint: note.rendered, entries: items)
    }
}
