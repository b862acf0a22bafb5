import Foundation
import Manifest

/// What an artist can check offline: their entries for a period, each with its inclusion proof, and the signed
/// checkpoint those proofs lead to. Inclusion proves every listed entry is in the log the origin signed; it cannot
/// prove that none was left out — for that an auditor exports the whole range (`leaf`s rebuild the root).
public struct Receipt: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        public var index: UInt64
        /// The entry's canonical bytes (base64).
        public var leaf: String
        /// The audit path to the checkpoint's root (hex hashes).
        public var proof: [String]

        public init(index: UInt64, leaf: String, proof: [String]) {
            self.index = index
            self.leaf = leaf
            self.proof = proof
        }
    }

    public var version = 1
    public var artist: String
    /// The period: committed at or after `from`, before `to` (milliseconds since the epoch).
    public var from: Int64
    public var to: Int64
    /// The C2SP signed checkpoint note.
    public var checkpoint: String
    public var entries: [Item]

    public init(artist: String, from: Int64, to: Int64, checkpoint: String, entries: [Item]) {
        self.artist = artist
        self.from = from
        self.to = to
        self.checkpoint = checkpoint
        self.entries = entries
    }

    /// Builds the receipt of `artist` for `[from, to)` from `book`, against `signedCheckpoint`, which must cover the
    /// whole book (its size is `book.entries.count`).
    public static func make(artist: String, from: Int64, to: Int64, book: LedgerBook, signedCheckpoint: SignedNote) throws -> Receipt {
        let size = book.entries.count
        let items = try book.entries.filter { $0.concerns(artist: artist) && $0.committedAt >= from && $0.committedAt < to }.map { entry in
            Item(index: entry.index, leaf: Data(EntryEncoding.encode(entry)).base64EncodedString(),
                 proof: try book.log.inclusionProof(index: Int(entry.index), size: size).map(\.hex))
        }
        return Receipt(artist: artist, from: from, to: to, checkpoint: signedCheckpoint.rendered, entries: items)
    }
}

/// Why a receipt does not verify.
public enum ReceiptError: Error, Equatable, Sendable, CustomStringConvertible {
    case unsupportedVersion(Int)
    case signature(String)
    case wrongLog(String)
    case entry(index: UInt64, String)

    public var description: String {
        switch self {
        case .unsupportedVersion(let version): "unsupported receipt version \(version)"
        case .signature(let reason): "checkpoint: \(reason)"
        case .wrongLog(let origin): "the checkpoint is for log \"\(origin)\", not this ledger"
        case .entry(let index, let reason): "entry \(index): \(reason)"
        }
    }
}

/// Offline verification of a receipt with the origin's public key.
public enum ReceiptVerifier {
    /// Checks the signature and the log's name, then every entry: it decodes, sits at its index, concerns the artist,
    /// falls in the period, appears once, and its inclusion proof leads to the signed root. Returns the entries.
    public static func verify(_ receipt: Receipt, verifier: NoteVerifier, logOrigin: String) throws(ReceiptError) -> [LedgerEntry] {
        guard receipt.version == 1 else { throw .unsupportedVersion(receipt.version) }
        let checkpoint: Checkpoint
        do {
            let note = try SignedNote(parsing: receipt.checkpoint)
            try note.verify(with: verifier)
            checkpoint = try Checkpoint(text: note.text)
        } catch {
            throw .signature("\(error)")
        }
        guard checkpoint.origin == logOrigin else { throw .wrongLog(checkpoint.origin) }
        var previous: UInt64?
        var entries: [LedgerEntry] = []
        for item in receipt.entries {
            guard let bytes = Data(base64Encoded: item.leaf) else { throw .entry(index: item.index, "leaf is not base64") }
            let entry: LedgerEntry
            do {
                entry = try EntryEncoding.decode(Array(bytes))
            } catch {
                throw .entry(index: item.index, "\(error)")
            }
            guard entry.index == item.index else { throw .entry(index: item.index, "the leaf says index \(entry.index)") }
            if let previous, item.index <= previous { throw .entry(index: item.index, "entries out of order or repeated") }
            previous = item.index
            guard entry.concerns(artist: receipt.artist) else { throw .entry(index: item.index, "no posting on \(receipt.artist)'s accounts") }
            guard entry.committedAt >= receipt.from && entry.committedAt < receipt.to else {
                throw .entry(index: item.index, "committed outside the receipt's period")
            }
            var proof: [MerkleHash] = []
            for hex in item.proof {
                guard let hash = MerkleHash(hex: hex) else { throw .entry(index: item.index, "proof hash \"\(hex)\" is not 32 hex bytes") }
                proof.append(hash)
            }
            do {
                try MerkleProof.verifyInclusion(index: Int(item.index), treeSize: checkpoint.size, leafHash: RFC9162.leafHash(Array(bytes)),
                                                proof: proof, root: checkpoint.root)
            } catch {
                throw .entry(index: item.index, "not in the signed log: \(error)")
            }
            entries.append(entry)
        }
        return entries
    }
}
