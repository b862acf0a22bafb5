import Manifest

/// One 64 KiB chunk whose hash matched the signed manifest.
public struct VerifiedChunk: Equatable, Sendable {
    public let index: Int
    /// Byte offset of the chunk in the file.
    public let offset: Int64
    public let bytes: [UInt8]
}

/// Why bytes from a parent were rejected.
public enum ChunkVerificationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The chunk's bytes do not hash to the manifest's value: the parent is corrupt or lying.
    case mismatch(chunk: Int)
    /// More bytes than the file has.
    case overrun(chunk: Int)
    /// The parent stopped before the end it was asked for.
    case truncated(chunk: Int)

    public var description: String {
        switch self {
        case .mismatch(let chunk): "chunk \(chunk) does not match the signed manifest"
        case .overrun(let chunk): "data continues past the end of the file (after chunk \(chunk))"
        case .truncated(let chunk): "data stopped inside or before chunk \(chunk)"
        }
    }
}

/// Turns a byte stream from an untrusted parent into chunks verified against the file's signed chunk list, in order.
/// No byte is released before its whole chunk verified; after a failure, `nextChunk` is where a fill resumes from
/// another parent (chunk-aligned, so the partial chunk is simply fetched again).
public struct ChunkStreamVerifier: Sendable {
    public let chunks: ChunkList
    /// The next chunk expected (and the first not yet released).
    public private(set) var nextChunk: Int
    private var pending: [UInt8] = []
    private var failed = false

    /// Verifies from chunk `startChunk` on.
    public init(chunks: ChunkList, startChunk: Int = 0) {
        precondition(startChunk >= 0 && startChunk <= chunks.hashes.count)
        self.chunks = chunks
        nextChunk = startChunk
    }

    /// Offset of the next expected byte, for a ranged request to a parent.
    public var nextOffset: Int64 { Int64(nextChunk) * Int64(chunks.chunkSize) }

    /// Feeds bytes as they arrive; returns the chunks they complete. After an error, nothing more is accepted.
    public mutating func feed<Bytes: Collection>(_ bytes: Bytes) throws(ChunkVerificationError) -> [VerifiedChunk] where Bytes.Element == UInt8 {
        guard !failed else { throw .mismatch(chunk: nextChunk) }
        pending.append(contentsOf: bytes)
        var verified: [VerifiedChunk] = []
        while nextChunk < chunks.hashes.count {
            let range = chunks.range(ofChunk: nextChunk)
            let length = Int(range.count)
            guard pending.count >= length else { break }
            let chunk = Array(pending[0..<length])
            guard RFC9162.leafHash(chunk) == chunks.hashes[nextChunk] else {
                failed = true
                pending.removeAll()
                throw .mismatch(chunk: nextChunk)
            }
            pending.removeFirst(length)
            verified.append(VerifiedChunk(index: nextChunk, offset: range.lowerBound, bytes: chunk))
            nextChunk += 1
        }
        if nextChunk == chunks.hashes.count && !pending.isEmpty {
            failed = true
            throw .overrun(chunk: nextChunk - 1)
        }
        return verified
    }

    /// The parent finished sending: every chunk up to (not including) `endChunk` must have been verified.
    public func finish(endChunk: Int) throws(ChunkVerificationError) {
        guard nextChunk >= endChunk else { throw .truncated(chunk: nextChunk) }
    }
}
