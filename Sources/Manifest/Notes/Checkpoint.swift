/// A C2SP checkpoint body: the origin line, the tree size in decimal, the base64 root hash, then optional
/// extension lines. Signed as a note, it commits to a whole Merkle tree.
public struct Checkpoint: Sendable, Equatable {
    /// Identifies the log (or manifest) the tree belongs to.
    public let origin: String
    /// Number of leaves.
    public let size: Int
    /// RFC 9162 root over the leaves.
    public let root: MerkleHash
    /// Extra lines, each non-empty.
    public let extensions: [String]

    /// A checkpoint; the origin and extensions must be single non-empty lines.
    public init(origin: String, size: Int, root: MerkleHash, extensions: [String] = []) throws(NoteError) {
        guard !origin.isEmpty, !origin.contains("\n") else { throw .malformedCheckpoint("origin must be one non-empty line") }
        guard size >= 0 else { throw .malformedCheckpoint("negative size") }
        guard extensions.allSatisfy({ !$0.isEmpty && !$0.contains("\n") }) else {
            throw .malformedCheckpoint("extension lines must be non-empty single lines")
        }
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = extensions
    }

    /// Parses a note body.
    public init(text: String) throws(NoteError) {
        guard text.hasSuffix("\n") else { throw .malformedCheckpoint("must end with a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3 else { throw .malformedCheckpoint("needs origin, size and root lines") }
        guard let size = Int(lines[1]), size >= 0, String(size) == lines[1] else {
            throw .malformedCheckpoint("size line \"\(lines[1])\" is not a canonical decimal number")
        }
        guard let bytes = Base64.decode(lines[2]), let root = MerkleHash(bytes: bytes) else {
            throw .malformedCheckpoint("root line is not base64 of 32 bytes")
        }
        try self.init(origin: lines[0], size: size, root: root, extensions: Array(lines.dropFirst(3)))
    }

    /// The note body.
    public var text: String {
        ([origin, String(size), root.base64] + extensions).map { $0 + "\n" }.joined()
    }
}
