import protocol Foundation.ContiguousBytes
/// Splits a byte stream into fixed-size chunks (64 KiB by default) and leaf-hashes each one, so that any single
/// chunk of a file can be verified alone against the file's chunk-tree root.
public struct ChunkHasher: Sendable {
    /// The chunk size every edgenode manifest uses.
    public static let defaultChunkSize = 64 * 1024

    /// The chunk size in bytes.
    public let chunkSize: Int
    /// Leaf hashes of the complete chunks seen so far.
    public private(set) var chunkHashes: [MerkleHash] = []
    /// Total bytes fed.
    public private(set) var byteCount: Int64 = 0
    private var pending: [UInt8] = []

    /// A hasher for `chunkSize`-byte chunks.
    public init(chunkSize: Int = ChunkHasher.defaultChunkSize) {
        precondition(chunkSize > 0)
        self.chunkSize = chunkSize
        pending.reserveCapacity(chunkSize)
    }

    /// Feeds more bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        byteCount += Int64(bytes.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(chunkSize - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take])
            offset = take
            if pending.count == chunkSize {
                chunkHashes.append(RFC9162.leafHash(pending))
                pending.removeAll(keepingCapacity: true)
            }
        }
        while bytes.count - offset >= chunkSize {
            chunkHashes.append(RFC9162.leafHash(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + chunkSize])))
            offset += chunkSize
        }
        if offset < bytes.count { pending.append(contentsOf: bytes[offset...]) }
    }

    /// Feeds more bytes.
    public mutating func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Hashes the final partial chunk and returns the file's chunk list.
    public mutating func finish() -> ChunkList {
        if !pending.isEmpty {
            chunkHashes.append(RFC9162.leafHash(pending))
            pending.removeAll()
        }
        return ChunkList(size: byteCount, chunkSize: chunkSize, hashes: chunkHashes)
    }

    /// Chunk list of an in-memory byte string.
    public static func chunkList<Bytes: ContiguousBytes>(of bytes: Bytes, chunkSize: Int = defaultChunkSize) -> ChunkList {
        var hasher = ChunkHasher(chunkSize: chunkSize)
        hasher.update(bytes)
        return hasher.finish()
    }
}

/// The chunk leaf hashes of one file and the root of the tree over them.
public struct ChunkList: Sendable, Equatable {
    /// File length in bytes.
    public let size: Int64
    /// Chunk size in bytes; the last chunk may be shorter.
    public let chunkSize: Int
    /// `SHA-256(0x00 || chunk)` for each chunk, in order.
    public let hashes: [MerkleHash]

    /// Builds a list, checking that the number of hashes fits the size.
    public init(size: Int64, chunkSize: Int, hashes: [MerkleHash]) {
        self.size = size
        self.chunkSize = chunkSize
        self.hashes = hashes
    }

    /// The RFC 9162 root over the chunk hashes (`SHA-256("")` for an empty file).
    public var root: MerkleHash { RFC9162.root(of: hashes) }

    /// How many chunks a file of this size has.
    public var expectedChunkCount: Int { Int((size + Int64(chunkSize) - 1) / Int64(chunkSize)) }

    /// The byte range of chunk `index`.
    public func range(ofChunk index: Int) -> Range<Int64> {
        let start = Int64(index) * Int64(chunkSize)
        return start..<min(start + Int64(chunkSize), size)
    }
}
