import protocol Foundation.ContiguousBytes

/// A manifest whose signature, tree and chunk lists have all been checked; the only way to reach the per-file and
/// per-chunk checks, so nothing can be verified against an unverified manifest.
public struct VerifiedManifest: Sendable {
    /// One listed file with its position in the tree.
    public struct Entry: Sendable {
        public let leafIndex: Int
        public let path: String
        public let chunks: ChunkList
    }

    /// The manifest as parsed.
    public let manifest: ContentManifest
    /// The signed checkpoint.
    public let checkpoint: Checkpoint
    /// The rebuilt tree (leaf 0 is the metadata).
    public let tree: MerkleTree
    private let entries: [String: Entry]

    /// Files in manifest order.
    public var files: [Entry] { manifest.files.map { entries[$0.path]! } }

    /// Verifies `manifest` against the origin's public key: the signature, the checkpoint origin and size, every
    /// chunk list against its root, and the rebuilt Merkle root against the signed one.
    public init(_ manifest: ContentManifest, verifier: NoteVerifier) throws(ManifestError) {
        guard manifest.version == ContentManifest.currentVersion else { throw .unsupportedVersion(manifest.version) }
        let note: SignedNote
        let checkpoint: Checkpoint
        do {
            note = try SignedNote(parsing: manifest.signedNote)
            try note.verify(with: verifier)
            checkpoint = try Checkpoint(text: note.text)
        } catch {
            throw .signature(error)
        }
        try ContentManifest.validateIdentifier(manifest.contentID, field: "content id")
        guard checkpoint.origin == ContentManifest.checkpointOrigin(contentID: manifest.contentID) else {
            throw .checkpointMismatch("origin \"\(checkpoint.origin)\" is not for content \"\(manifest.contentID)\"")
        }
        guard manifest.chunkSize > 0 && manifest.chunkSize <= 16 * 1024 * 1024 else {
            throw .malformed("chunk size \(manifest.chunkSize) out of range")
        }
        var tree = MerkleTree()
        tree.append(leafHash: RFC9162.leafHash(LeafEncoding.metadata(ContentManifest.metadataPairs(manifest.contentDescription))))
        var entries: [String: Entry] = [:]
        var previous: [UInt8]? = nil
        for file in manifest.files {
            try ContentManifest.validatePath(file.path)
            let pathBytes = Array(file.path.utf8)
            if let previous, !previous.lexicographicallyPrecedes(pathBytes) {
                throw .filesNotSortedOrDuplicated(file.path)
            }
            previous = pathBytes
            let list = try file.chunkList(chunkSize: manifest.chunkSize)
            let entry = Entry(leafIndex: tree.size, path: file.path, chunks: list)
            tree.append(leafHash: ContentManifest.fileLeafHash(path: file.path, list: list))
            entries[file.path] = entry
        }
        guard tree.size == checkpoint.size else {
            throw .checkpointMismatch("signed tree size \(checkpoint.size), manifest has \(tree.size) leaves")
        }
        guard tree.root() == checkpoint.root else {
            throw .rootMismatch(signed: checkpoint.root.hex, computed: tree.root().hex)
        }
        guard manifest.root == checkpoint.root.hex, manifest.treeSize == checkpoint.size else {
            throw .checkpointMismatch("the root or size fields disagree with the signed checkpoint")
        }
        self.manifest = manifest
        self.checkpoint = checkpoint
        self.tree = tree
        self.entries = entries
    }

    /// The entry for a path, if listed.
    public func entry(for path: String) -> Entry? { entries[path] }

    /// Checks one chunk (`index` counts 64 KiB chunks from the start of the file) before it is forwarded.
    public func verifyChunk<Bytes: ContiguousBytes>(path: String, index: Int, bytes: Bytes) throws(ManifestError) {
        guard let entry = entries[path] else { throw .unknownFile(path) }
        guard index >= 0 && index < entry.chunks.hashes.count else { throw .chunkOutOfRange(path: path, chunk: index) }
        let range = entry.chunks.range(ofChunk: index)
        let count = bytes.withUnsafeBytes { $0.count }
        guard Int64(count) == range.count, RFC9162.leafHash(bytes) == entry.chunks.hashes[index] else {
            throw .chunkMismatch(path: path, chunk: index, offset: range.lowerBound)
        }
    }

    /// Checks a whole file's bytes.
    public func verifyFile<Bytes: ContiguousBytes>(path: String, bytes: Bytes) throws(ManifestError) {
        guard let entry = entries[path] else { throw .unknownFile(path) }
        var hasher = ChunkHasher(chunkSize: entry.chunks.chunkSize)
        hasher.update(bytes)
        try Self.compare(hasher.finish(), with: entry)
    }

    /// Compares a computed chunk list with the manifest's, naming the first differing chunk.
    public static func compare(_ actual: ChunkList, with entry: Entry) throws(ManifestError) {
        guard actual.size == entry.chunks.size else {
            throw .sizeMismatch(path: entry.path, expected: entry.chunks.size, actual: actual.size)
        }
        for (index, hash) in actual.hashes.enumerated() where hash != entry.chunks.hashes[index] {
            throw .chunkMismatch(path: entry.path, chunk: index, offset: entry.chunks.range(ofChunk: index).lowerBound)
        }
    }

    /// A self-contained proof that one file belongs to this signed manifest.
    public func inclusionProof(for path: String) throws(ManifestError) -> FileInclusionProof {
        guard let entry = entries[path] else { throw .unknownFile(path) }
        let proof: [MerkleHash]
        do {
            proof = try tree.inclusionProof(index: entry.leafIndex, size: tree.size)
        } catch {
            throw .proof(path: path, error)
        }
        return FileInclusionProof(
            signedNote: manifest.signedNote, contentID: manifest.contentID,
            file: manifest.files.first(where: { $0.path == path })!, chunkSize: manifest.chunkSize,
            leafIndex: entry.leafIndex, treeSize: tree.size, proof: proof.map(\.hex))
    }
}
