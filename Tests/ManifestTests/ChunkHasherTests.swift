import Testing
@testable import Manifest

@Suite struct ChunkHasherTests {
    static func bytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        var value = seed
        return (0..<count).map { _ in value = value &* 31 &+ 17; return value }
    }

    @Test func emptyFileHasNoChunksAndTheEmptyRoot() {
        let list = ChunkHasher.chunkList(of: [UInt8]())
        #expect(list.hashes.isEmpty)
        #expect(list.root == RFC9162.emptyRoot)
        #expect(list.expectedChunkCount == 0)
    }

    @Test(arguments: [1, 65_535, 65_536, 65_537, 200_000, 3 * 65_536])
    func chunkBoundaries(size: Int) {
        let data = Self.bytes(size)
        let list = ChunkHasher.chunkList(of: data)
        #expect(list.hashes.count == (size + 65_535) / 65_536)
        #expect(list.expectedChunkCount == list.hashes.count)
        for (index, hash) in list.hashes.enumerated() {
            let range = list.range(ofChunk: index)
            #expect(hash == RFC9162.leafHash(Array(data[Int(range.lowerBound)..<Int(range.upperBound)])))
        }
    }

    /// Feeding the same bytes in arbitrary pieces gives the same chunk list as one piece.
    @Test func streamingInPiecesMatchesOneShot() {
        let data = Self.bytes(300_000)
        let expected = ChunkHasher.chunkList(of: data)
        for piece in [1, 7, 4096, 65_535, 65_537, 100_000] {
            var hasher = ChunkHasher()
            var offset = 0
            while offset < data.count {
                let end = min(offset + piece, data.count)
                hasher.update(Array(data[offset..<end]))
                offset = end
            }
            #expect(hasher.finish() == expected, "piece size \(piece)")
        }
    }
}
