import Foundation
import Testing
@testable import Manifest

@Suite struct ContentManifestTests {
    static let signer = try! NoteSigner.generate(name: "test-origin")
    static let files: [String: [UInt8]] = [
        "master.m3u8": Array("#EXTM3U\n".utf8),
        "720p/index.m3u8": Array("#EXTM3U\n#EXT-X-TARGETDURATION:6\n".utf8),
        "720p/seg_00000.ts": ChunkHasherTests.bytes(150_000, seed: 1),
        "720p/seg_00001.ts": ChunkHasherTests.bytes(70_000, seed: 2),
        "720p/empty.bin": [],
    ]
    static let description = ContentManifest.Description(
        contentID: "song-1", artistID: "artist-9", title: "A \"quoted\" title", format: "ts",
        libav: .init(avformat: "59.27.100", avcodec: "59.37.100", avutil: "57.28.100"), chunkSize: 65_536,
        master: "master.m3u8",
        renditions: [.init(id: "720p", playlist: "720p/index.m3u8", initSegment: nil, bandwidth: 10, averageBandwidth: 9,
                           codecs: "avc1.64001f", resolution: "1280x720", frameRate: "30.000", targetDuration: 6,
                           segments: [.init(path: "720p/seg_00000.ts", durationUs: 6_000_000)])])

    static func build() throws -> ContentManifest {
        try ContentManifest.build(description: description, files: files.mapValues { ChunkHasher.chunkList(of: $0) }, signer: signer)
    }

    @Test func buildsVerifiesAndRoundTripsThroughJSON() throws {
        let manifest = try Self.build()
        #expect(manifest.treeSize == Self.files.count + 1)
        #expect(manifest.files.map(\.path) == Self.files.keys.sorted())
        let parsed = try ContentManifest.parse(manifest.jsonData())
        #expect(parsed == manifest)
        let verified = try VerifiedManifest(parsed, verifier: Self.signer.verifier)
        for (path, bytes) in Self.files {
            try verified.verifyFile(path: path, bytes: bytes)
            let list = verified.entry(for: path)!.chunks
            for index in list.hashes.indices {
                let range = list.range(ofChunk: index)
                try verified.verifyChunk(path: path, index: index, bytes: Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)]))
            }
        }
    }

    @Test func jsonIsDeterministic() throws {
        #expect(try Self.build().jsonData() == Self.build().jsonData())
    }

    @Test func singleFileProofsVerifyAloneAndDetectTampering() throws {
        let verified = try VerifiedManifest(Self.build(), verifier: Self.signer.verifier)
        for path in Self.files.keys {
            let proof = try verified.inclusionProof(for: path)
            let roundTripped = try JSONDecoder().decode(FileInclusionProof.self, from: JSONEncoder().encode(proof))
            let list = try roundTripped.verify(with: Self.signer.verifier)
            #expect(list == ChunkHasher.chunkList(of: Self.files[path]!))
            var moved = proof
            moved.leafIndex = proof.leafIndex == 1 ? 2 : 1
            #expect(throws: ManifestError.self) { try moved.verify(with: Self.signer.verifier) }
            var renamed = proof
            renamed.file.path = "720p/other.ts"
            #expect(throws: ManifestError.self) { try renamed.verify(with: Self.signer.verifier) }
        }
    }

    @Test func everyKindOfTamperingIsDetected() throws {
        let good = try Self.build()
        let verifier = Self.signer.verifier
        func rejects(_ mutate: (inout ContentManifest) -> Void, _ label: String) {
            var manifest = good
            mutate(&manifest)
            #expect(throws: ManifestError.self, "\(label)") { try VerifiedManifest(manifest, verifier: verifier) }
        }
        rejects({ $0.title = "Another title" }, "title")
        rejects({ $0.artistID = "artist-10" }, "artist")
        rejects({ $0.renditions[0].segments[0].durationUs += 1 }, "duration")
        rejects({ $0.libav.avcodec = "60.0.0" }, "libav version")
        rejects({ $0.files[1].size += 1 }, "file size")
        rejects({ $0.files.swapAt(1, 2) }, "file order")
        rejects({ $0.files.remove(at: 0) }, "removed file")
        rejects({ $0.files[2].chunks = $0.files[3].chunks }, "chunk list")
        rejects({ $0.files[2].chunks = "" }, "emptied chunk list")
        rejects({ $0.files[2].path = "../escape" }, "path")
        rejects({ $0.contentID = "song-2" }, "content id")
        rejects({ $0.signedNote = $0.signedNote.replacingOccurrences(of: "\n\n", with: "\nx\n\n") }, "note text")
        rejects({ $0.version = 2 }, "version")
        #expect(throws: ManifestError.self) {
            try VerifiedManifest(good, verifier: NoteSigner.generate(name: "test-origin").verifier)
        }
        let verified = try VerifiedManifest(good, verifier: verifier)
        var bytes = Self.files["720p/seg_00000.ts"]!
        bytes[70_000] ^= 1
        #expect(throws: ManifestError.chunkMismatch(path: "720p/seg_00000.ts", chunk: 1, offset: 65_536)) {
            try verified.verifyFile(path: "720p/seg_00000.ts", bytes: bytes)
        }
        #expect(throws: ManifestError.chunkMismatch(path: "720p/seg_00000.ts", chunk: 1, offset: 65_536)) {
            try verified.verifyChunk(path: "720p/seg_00000.ts", index: 1, bytes: Array(bytes[65_536..<131_072]))
        }
        #expect(throws: ManifestError.chunkOutOfRange(path: "720p/seg_00000.ts", chunk: 3)) {
            try verified.verifyChunk(path: "720p/seg_00000.ts", index: 3, bytes: [UInt8]())
        }
        #expect(throws: ManifestError.sizeMismatch(path: "720p/seg_00001.ts", expected: 70_000, actual: 69_999)) {
            try verified.verifyFile(path: "720p/seg_00001.ts", bytes: Array(Self.files["720p/seg_00001.ts"]!.dropLast()))
        }
    }

    @Test func hostileJSONIsRejectedCleanly() {
        for bad in ["", "{}", "[]", "{\"version\": 1}", String(repeating: "[", count: 100_000)] {
            #expect(throws: ManifestError.self, "\(bad.prefix(20))") { try ContentManifest.parse(Data(bad.utf8)) }
        }
    }

    @Test func identifiersAndPathsAreValidated() {
        for bad in ["", ".hidden", "a/b", "a b", String(repeating: "x", count: 129)] {
            #expect(throws: ManifestError.self) { try ContentManifest.validateIdentifier(bad, field: "id") }
        }
        for bad in ["/abs", "a/../b", "a//b", "./a", "a\u{0}b", "a\\b", ""] {
            #expect(throws: ManifestError.self, "\(bad.debugDescription)") { try ContentManifest.validatePath(bad) }
        }
    }
}
