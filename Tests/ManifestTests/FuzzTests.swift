import Foundation
import Testing
import TestSupport
@testable import Manifest

@Suite struct ManifestFuzzTests {
    static func mutate(_ input: [UInt8], _ generator: inout SeededGenerator, noise: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...8, using: &generator) where !bytes.isEmpty {
            let index = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: bytes[index] = noise.randomElement(using: &generator)!
            case 1: bytes.remove(at: index)
            default: bytes.insert(noise.randomElement(using: &generator)!, at: index)
            }
        }
        return bytes
    }

    /// Mutated playlists: parsed or rejected with a line number, never a crash; what parses re-renders and re-parses.
    @Test(arguments: 0..<4)
    func playlists(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let media = Array(MediaPlaylist.vod(segments: PlaylistTests.segments, mapURI: "init.mp4").render().utf8)
        let master = Array(MasterPlaylist(independentSegments: true, variants: [
            .init(bandwidth: 1, averageBandwidth: 1, codecs: "avc1.64001f,mp4a.40.2", resolution: "1x1", frameRate: "30.000", uri: "a/index.m3u8"),
        ]).render().utf8)
        let noise = Array("#EXT-:,.=\"\n\r0123456789XINFMAPURI".utf8)
        for _ in 0..<2000 {
            let text = String(decoding: Self.mutate(media, &generator, noise: noise), as: UTF8.self)
            if let parsed = try? MediaPlaylist.parse(text) {
                #expect((try? MediaPlaylist.parse(parsed.render())) == parsed, "\(text.debugDescription)")
            }
            _ = try? MasterPlaylist.parse(String(decoding: Self.mutate(master, &generator, noise: noise), as: UTF8.self))
        }
    }

    /// Mutated manifests and notes never verify unless the mutation left the signed content intact, and never crash.
    @Test(arguments: 0..<3)
    func manifests(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let manifest = try ContentManifestTests.build()
        let json = Array(manifest.jsonData())
        let noise = Array("{}[]\",:0123456789abcdefAZ=+/ \n".utf8)
        for _ in 0..<400 {
            let bytes = Self.mutate(json, &generator, noise: noise)
            guard let parsed = try? ContentManifest.parse(Data(bytes)) else { continue }
            if (try? VerifiedManifest(parsed, verifier: ContentManifestTests.signer.verifier)) != nil {
                #expect(parsed.files == manifest.files && parsed.contentDescription == manifest.contentDescription,
                        "a mutation that changed signed content verified")
            }
        }
        for _ in 0..<2000 {
            let note = String(decoding: Self.mutate(Array(manifest.signedNote.utf8), &generator, noise: noise), as: UTF8.self)
            _ = try? SignedNote(parsing: note)
            _ = try? Checkpoint(text: note)
        }
    }
}
