/// Proof that one file (with its chunk list) is part of a signed manifest, checkable without the rest of the
/// manifest: the signed checkpoint, the file's entry, its leaf index and the RFC 9162 audit path.
public struct FileInclusionProof: Codable, Sendable, Equatable {
    public var signedNote: String
    public var contentID: String
    public var file: ContentManifest.File
    public var chunkSize: Int
    public var leafIndex: Int
    public var treeSize: Int
    /// Hex hashes, leaf to root.
    public var proof: [String]

    enum CodingKeys: String, CodingKey {
        case signedNote, contentID = "contentId", file, chunkSize, leafIndex, treeSize, proof
    }

    /// Verifies the signature, the entry's chunk list and the audit path; returns the file's chunk list, against
    /// which single chunks can then be checked.
    public func verify(with verifier: NoteVerifier) throws(ManifestError) -> ChunkList {
        let checkpoint: Checkpoint
        do {
            let note = try SignedNote(parsing: signedNote)
            try note.verify(with: verifier)
            checkpoint = try Checkpoint(text: note.text)
        } catch {
            throw .signature(error)
        }
        guard checkpoint.origin == ContentManifest.checkpointOrigin(contentID: contentID) else {
            throw .checkpointMismatch("origin \"\(checkpoint.origin)\" is not for content \"\(contentID)\"")
        }
        guard checkpoint.size == treeSize else {
            throw .checkpointMismatch("proof is for size \(treeSize), checkpoint has \(checkpoint.size)")
        }
        guard leafIndex >= 1 else { throw .malformed("leaf 0 is the metadata leaf, not a file") }
        guard chunkSize > 0 && chunkSize <= 16 * 1024 * 1024 else { throw .malformed("chunk size \(chunkSize) out of range") }
        try ContentManifest.validatePath(file.path)
        let list = try file.chunkList(chunkSize: chunkSize)
        let hashes = proof.compactMap(MerkleHash.init(hex:))
        guard hashes.count == proof.count else { throw .malformed("proof contains a value that is not a 32-byte hex hash") }
        do {
            try MerkleProof.verifyInclusion(
                index: leafIndex, treeSize: treeSize,
                leafHash: ContentManifest.fileLeafHash(path: file.path, list: list),
                proof: hashes, root: checkpoint.root)
        } catch {
            throw .proof(path: file.path, error)
        }
        return list
    }
}
