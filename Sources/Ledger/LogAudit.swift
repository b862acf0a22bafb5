import Foundation
import Manifest

/// What an auditor checks, with nothing but an export, the origin's public key and (optionally) a checkpoint seen
/// earlier: every leaf is canonical and says what its readable columns say; indexes run from 0 without gaps; every
/// transfer balances per currency; the leaves rebuild the root of the signed checkpoint; an earlier checkpoint is a
/// prefix of this log (consistency).
public enum LogAudit {
    /// The outcome of a successful audit.
    public struct Report: Sendable {
        public var size: Int
        public var root: MerkleHash
        /// Total credits (= total debits) per currency, in minor units.
        public var volume: [String: Int64]
    }

    public struct Failure: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
        public init(_ reason: String) { self.reason = reason }
    }

    /// A signed checkpoint, verified: the signature with `verifier`, and the origin line.
    public static func checkpoint(_ text: String, verifier: NoteVerifier, log: String) throws -> Checkpoint {
        let note: SignedNote
        do {
            note = try SignedNote(parsing: text)
            try note.verify(with: verifier)
        } catch {
            throw Failure("the checkpoint does not verify with the origin's key: \(error)")
        }
        let checkpoint = try Checkpoint(text: note.text)
        guard checkpoint.origin == log else { throw Failure("the checkpoint is for log \"\(checkpoint.origin)\", not \"\(log)\"") }
        return checkpoint
    }

    /// Audits an export of the whole log `[0, checkpoint.size)`; `earlier` (a verified checkpoint) must be a prefix.
    public static func audit(_ export: LedgerExport, checkpoint: Checkpoint, earlier: Checkpoint?) throws -> Report {
        guard export.start == 0 else { throw Failure("the export starts at \(export.start): rebuilding the root needs it from entry 0") }
        guard export.entries.count == checkpoint.size else {
            throw Failure("the export has \(export.entries.count) entries but the checkpoint covers \(checkpoint.size)")
        }
        var tree = MerkleTree()
        var volume: [String: Int64] = [:]
        for (position, item) in export.entries.enumerated() {
            guard item.index == UInt64(position) else { throw Failure("entry at position \(position) says index \(item.index)") }
            guard let data = Data(base64Encoded: item.leaf) else { throw Failure("entry \(position): leaf is not base64") }
            let leaf = Array(data)
            let hash = RFC9162.leafHash(leaf)
            guard hash.hex == item.leafHash.lowercased() else { throw Failure("entry \(position): leaf_hash is not the hash of its leaf") }
            let decoded: LedgerEntry
            switch Result(catching: { () throws(LedgerError) in try EntryEncoding.decode(leaf) }) {
            case .success(let entry): decoded = entry
            case .failure(let error): throw Failure("entry \(position): \(error)")
            }
            guard ExportedEntry(decoded) == item else {
                throw Failure("entry \(position): the readable columns differ from what its leaf encodes")
            }
            for posting in decoded.transfer.postings where posting.side == .credit {
                let (sum, overflow) = volume[posting.account.currency.code, default: 0].addingReportingOverflow(posting.amount)
                guard !overflow else { throw Failure("entry \(position): the credits in \(posting.account.currency.code) sum past the 64-bit range") }
                volume[posting.account.currency.code] = sum
            }
            tree.append(leafHash: hash)
        }
        guard tree.root() == checkpoint.root else {
            throw Failure("the leaves rebuild root \(tree.root().hex), the checkpoint signs \(checkpoint.root.hex)")
        }
        if let earlier {
            guard earlier.size <= checkpoint.size else {
                throw Failure("the earlier checkpoint (size \(earlier.size)) is larger than this log (\(checkpoint.size)): history was rewritten")
            }
            guard tree.root(size: earlier.size) == earlier.root else {
                throw Failure("the first \(earlier.size) entries no longer have the root of the earlier checkpoint: history was rewritten")
            }
        }
        return Report(size: checkpoint.size, root: checkpoint.root, volume: volume)
    }

    /// Checks a consistency proof from `earlier` to `later` (both verified checkpoints).
    public static func consistency(from earlier: Checkpoint, to later: Checkpoint, proof: [String]) throws {
        guard earlier.size <= later.size else {
            throw Failure("the earlier checkpoint (size \(earlier.size)) is larger than the current one (\(later.size)): history was rewritten")
        }
        let hashes = try proof.map { hex in
            guard let hash = MerkleHash(hex: hex) else { throw Failure("the consistency proof holds a malformed hash") }
            return hash
        }
        do {
            try MerkleProof.verifyConsistency(oldSize: earlier.size, newSize: later.size, oldRoot: earlier.root, newRoot: later.root, proof: hashes)
        } catch {
            throw Failure("the consistency proof from size \(earlier.size) to \(later.size) fails (\(error)): history was rewritten")
        }
    }
}
