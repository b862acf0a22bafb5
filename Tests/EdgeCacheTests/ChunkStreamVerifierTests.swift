import Manifest
import Testing
@testable import EdgeCache

@Suite struct ChunkStreamVerifierTests {
    static let file: [UInt8] = {
        var generator = SplitMix64(seed: 5)
        return (0..<(3 * 65_536 + 1234)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()
    static let chunks = ChunkHasher.chunkList(of: file)

    /// However the parent's bytes are sliced, every chunk is released exactly once, in order, and equals the file.
    @Test func releasesVerifiedChunksInOrder() throws {
        var generator = SplitMix64(seed: 9)
        for _ in 0..<20 {
            var verifier = ChunkStreamVerifier(chunks: Self.chunks)
            var released: [VerifiedChunk] = []
            var offset = 0
            while offset < Self.file.count {
                let end = min(Self.file.count, offset + Int.random(in: 1...100_000, using: &generator))
                released += try verifier.feed(Self.file[offset..<end])
                offset = end
            }
            try verifier.finish(endChunk: Self.chunks.hashes.count)
            #expect(released.map(\.index) == Array(0..<4))
            #expect(released.flatMap(\.bytes) == Self.file)
            #expect(released.map(\.offset) == [0, 65_536, 131_072, 196_608])
        }
    }

    /// A flipped byte: nothing of that chunk is released, the error names it, and a fill can resume there.
    @Test func aCorruptChunkIsNeverReleased() throws {
        var corrupt = Self.file
        corrupt[2 * 65_536 + 77] ^= 0x40
        var verifier = ChunkStreamVerifier(chunks: Self.chunks)
        let first = try verifier.feed(corrupt[0..<(2 * 65_536 + 100)])
        #expect(first.map(\.index) == [0, 1])
        #expect(throws: ChunkVerificationError.mismatch(chunk: 2)) { try verifier.feed(corrupt[(2 * 65_536 + 100)...]) }
        #expect(verifier.nextChunk == 2 && verifier.nextOffset == 131_072)
        // Resume from another parent at the chunk boundary.
        var resumed = ChunkStreamVerifier(chunks: Self.chunks, startChunk: verifier.nextChunk)
        let rest = try resumed.feed(Self.file[131_072...])
        #expect(rest.map(\.index) == [2, 3])
        try resumed.finish(endChunk: 4)
    }

    @Test func truncationAndOverrunAreErrors() throws {
        var short = ChunkStreamVerifier(chunks: Self.chunks)
        _ = try short.feed(Self.file[0..<100_000])
        #expect(throws: ChunkVerificationError.truncated(chunk: 1)) { try short.finish(endChunk: 4) }
        try short.finish(endChunk: 1)
        var long = ChunkStreamVerifier(chunks: Self.chunks)
        #expect(throws: ChunkVerificationError.overrun(chunk: 3)) { try long.feed(Self.file + [0]) }
    }

    @Test func aSwappedChunkIsCaughtEvenWithTheRightLength() {
        var swapped = Self.file
        swapped.replaceSubrange(0..<65_536, with: Self.file[65_536..<131_072])
        var verifier = ChunkStreamVerifier(chunks: Self.chunks)
        #expect(throws: ChunkVerificationError.mismatch(chunk: 0)) { try verifier.feed(swapped) }
    }
}
