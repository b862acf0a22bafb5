import Foundation
import Manifest
import Testing
import TestSupport

/// `edgenode segment` then `edgenode verify`, as real processes, and every tampering `verify` must catch.
@Suite(.serialized) struct SegmentAndVerifyTests {
    struct Published {
        let scratch: TemporaryDirectory
        var content: String { scratch.path + "/content" }
        var pubkey: String { scratch.path + "/origin.pub" }

        func verify() throws -> ProcessOutput {
            try EdgeNodeBinary.run(["verify", content, "--pubkey", pubkey])
        }

        func flipByte(in relative: String, at offset: Int) throws {
            let url = URL(fileURLWithPath: content + "/" + relative)
            var data = try Data(contentsOf: url)
            data[offset] ^= 0x01
            try data.write(to: url)
        }
    }

    static func publish(format: String = "ts") async throws -> Published {
        let scratch = try TemporaryDirectory("cli")
        let input = try await MediaFixtures.shared.path(.h264AAC)
        let keygen = try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/origin"])
        try #require(keygen.status == 0, "\(keygen.stderr)")
        let segment = try EdgeNodeBinary.run(["segment", input, "--out", scratch.path + "/content", "--key", scratch.path + "/origin.key",
                                              "--format", format, "--hls-time", "6", "--artist", "artist-7", "--title", "Test Tone",
                                              "--isrc", "us-rc1-76-07839"])
        try #require(segment.status == 0, "\(segment.stderr)")
        #expect(segment.stdout.contains("published content"))
        #expect(segment.stderr.isEmpty, "no progress bar or noise when not a terminal: \(segment.stderr)")
        return Published(scratch: scratch)
    }

    @Test(arguments: ["ts", "fmp4"])
    func publishedContentVerifies(format: String) async throws {
        let published = try await Self.publish(format: format)
        defer { published.scratch.remove() }
        let result = try published.verify()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("ok: "))
        let manifest = try ContentManifest.parse(Data(contentsOf: URL(fileURLWithPath: published.content + "/manifest.json")))
        #expect(manifest.artistID == "artist-7" && manifest.title == "Test Tone" && manifest.format == format)
        #expect(manifest.isrc == "USRC17607839", "the ISRC as its twelve characters")
    }

    @Test func aMalformedISRCIsRefusedBeforeAnythingIsWritten() async throws {
        let scratch = try TemporaryDirectory("cli-isrc")
        defer { scratch.remove() }
        let input = try await MediaFixtures.shared.path(.h264AAC)
        _ = try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/origin"])
        let result = try EdgeNodeBinary.run(["segment", input, "--out", scratch.path + "/content", "--key", scratch.path + "/origin.key",
                                             "--isrc", "US-RC1-76-0783"])
        #expect(result.status == 2 && result.stderr.contains("--isrc") && result.stderr.contains("is not an ISRC"), "\(result.status) \(result.stderr)")
        #expect(scratch.entries() == ["origin.key", "origin.pub"], "nothing written")
    }

    @Test(arguments: ["360p/seg_00001.ts", "360p/index.m3u8", "master.m3u8"])
    func aFlippedByteIsNamed(file: String) async throws {
        let published = try await Self.publish()
        defer { published.scratch.remove() }
        try published.flipByte(in: file, at: 20)
        let result = try published.verify()
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(file): content does not match the manifest: 1 of"), "\(result.stderr)")
    }

    @Test func aFlippedByteDeepInASegmentNamesItsChunk() async throws {
        let published = try await Self.publish()
        defer { published.scratch.remove() }
        try published.flipByte(in: "360p/seg_00002.ts", at: 3 * 65_536 + 100)
        let result = try published.verify()
        #expect(result.stderr.contains("360p/seg_00002.ts: content does not match the manifest: 1 of"))
        #expect(result.stderr.contains("(chunk 3)"))
    }

    @Test func aFlippedByteInTheManifestFailsTheSignature() async throws {
        let published = try await Self.publish()
        defer { published.scratch.remove() }
        let url = URL(fileURLWithPath: published.content + "/manifest.json")
        let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "Test Tone", with: "Test Tonf")
        try text.write(to: url, atomically: true, encoding: .utf8)
        let result = try published.verify()
        #expect(result.status == 1)
        #expect(result.stderr.contains("manifest.json: Merkle root mismatch"), "\(result.stderr)")
    }

    @Test func aSwappedPairOfSegmentsIsDetected() async throws {
        let published = try await Self.publish()
        defer { published.scratch.remove() }
        let a = published.content + "/360p/seg_00000.ts", b = published.content + "/360p/seg_00001.ts"
        try FileManager.default.moveItem(atPath: a, toPath: a + ".tmp")
        try FileManager.default.moveItem(atPath: b, toPath: a)
        try FileManager.default.moveItem(atPath: a + ".tmp", toPath: b)
        let result = try published.verify()
        #expect(result.status == 1)
        #expect(result.stderr.contains("360p/seg_00000.ts: "))
        #expect(result.stderr.contains("360p/seg_00001.ts: "))
    }

    @Test func missingTruncatedAndExtraFilesAreNamed() async throws {
        let published = try await Self.publish()
        defer { published.scratch.remove() }
        try FileManager.default.removeItem(atPath: published.content + "/360p/seg_00003.ts")
        let truncated = URL(fileURLWithPath: published.content + "/360p/seg_00000.ts")
        try Data(contentsOf: truncated).prefix(1000).write(to: truncated)
        try Data("x".utf8).write(to: URL(fileURLWithPath: published.content + "/360p/seg_00009.ts"))
        let result = try published.verify()
        #expect(result.stderr.contains("360p/seg_00003.ts: missing"))
        #expect(result.stderr.contains("360p/seg_00000.ts: size is 1000 bytes"))
        #expect(result.stderr.contains("360p/seg_00009.ts: not listed in the signed manifest"))
        #expect(result.stderr.contains("3 problem(s)"))
    }

    @Test func anotherOriginsKeyIsRejected() async throws {
        let published = try await Self.publish()
        defer { published.scratch.remove() }
        _ = try EdgeNodeBinary.run(["keygen", "--out", published.scratch.path + "/other"])
        let result = try EdgeNodeBinary.run(["verify", published.content, "--pubkey", published.scratch.path + "/other.pub"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("manifest signature"))
    }

    @Test func segmentErrorsAreCleanAndNonZero() async throws {
        let scratch = try TemporaryDirectory("cli-errors")
        defer { scratch.remove() }
        _ = try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/origin"])
        let key = scratch.path + "/origin.key"
        let random = try await MediaFixtures.shared.path(.randomBytes)
        let wrongKey = scratch.path + "/wrong.key"
        try FileManager.default.copyItem(atPath: scratch.path + "/origin.pub", toPath: wrongKey)
        chmod(wrongKey, 0o600)
        let cases: [([String], String)] = [
            (["segment", random, "--out", scratch.path + "/a", "--key", key], "not a media file"),
            (["segment", "/nope.mp4", "--out", scratch.path + "/a", "--key", key], "/nope.mp4: no such file"),
            (["segment", random, "--out", scratch.path + "/a", "--key", key, "--format", "webm"], "--format must be ts or fmp4"),
            (["segment", random, "--out", scratch.path + "/a", "--key", key, "--hls-time", "0"], "--hls-time must be between"),
            (["segment", random, "--out", scratch.path + "/a", "--key", wrongKey], "malformed key"),
            (["segment", random, "--out", scratch.path + "/a", "--key", scratch.path + "/origin.pub"], "permissions 644 are too open"),
        ]
        for (arguments, message) in cases {
            let result = try EdgeNodeBinary.run(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("crashed"))
        }
        #expect(scratch.entries() == ["origin.key", "origin.pub", "wrong.key"])
    }
}
