import Foundation
import Manifest
import Testing
import TestSupport
@testable import Segmenter

/// End-to-end: real media through real libav, checked with ffprobe/ffmpeg and our RFC 8216 validator.
@Suite(.serialized) struct PublishingTests {
    static let signer = try! NoteSigner.generate(name: "test-origin")

    struct Case: Sendable, CustomTestStringConvertible {
        let clip: MediaFixtures.Clip
        let format: SegmentFormat
        let hlsTime: Int64
        let codecPrefix: String
        let frameUs: Int64
        var testDescription: String { "\(clip.rawValue) as \(format.rawValue)" }
    }

    static let cases: [Case] = [
        Case(clip: .h264AAC, format: .ts, hlsTime: 6, codecPrefix: "avc1.64", frameUs: 33_334),
        Case(clip: .h264AAC, format: .fmp4, hlsTime: 6, codecPrefix: "avc1.64", frameUs: 33_334),
        Case(clip: .h264AACMatroska, format: .ts, hlsTime: 4, codecPrefix: "avc1.64", frameUs: 33_334),
        Case(clip: .h264AACTransportStream, format: .fmp4, hlsTime: 4, codecPrefix: "avc1.64", frameUs: 33_334),
        Case(clip: .hevcAAC, format: .ts, hlsTime: 4, codecPrefix: "hvc1.1.6.L", frameUs: 40_000),
        Case(clip: .hevcAAC, format: .fmp4, hlsTime: 4, codecPrefix: "hvc1.1.6.L", frameUs: 40_000),
        Case(clip: .videoOnly, format: .fmp4, hlsTime: 4, codecPrefix: "avc1.64", frameUs: 33_334),
        Case(clip: .audioOnly, format: .ts, hlsTime: 4, codecPrefix: "mp4a.40.2", frameUs: 23_220),
        Case(clip: .audioOnly, format: .fmp4, hlsTime: 4, codecPrefix: "mp4a.40.2", frameUs: 23_220),
        Case(clip: .mp3TransportStream, format: .ts, hlsTime: 4, codecPrefix: "mp4a.40.34", frameUs: 26_123),
        Case(clip: .h264AC3Matroska, format: .ts, hlsTime: 4, codecPrefix: "avc1.64", frameUs: 40_000),
    ]

    static func publish(_ input: String, format: SegmentFormat, hlsTime: Int64, into scratch: TemporaryDirectory,
                        name: String = "content") throws -> PublishReport {
        var options = PublishOptions(inputPath: input, outputPath: scratch.path + "/" + name)
        options.format = format
        options.targetDurationUs = hlsTime * 1_000_000
        options.artistID = "artist-1"
        return try Publisher.publish(options, signer: signer)
    }

    @Test(arguments: cases)
    func publishesCorrectHLS(_ c: Case) async throws {
        let input = try await MediaFixtures.shared.path(c.clip)
        let scratch = try TemporaryDirectory("publish")
        defer { scratch.remove() }
        let report = try Self.publish(input, format: c.format, hlsTime: c.hlsTime, into: scratch)
        let root = report.outputPath
        #expect(scratch.entries() == ["content"], "no staging directory left behind")

        // The manifest verifies, and so does every file on disk.
        let manifestData = try Data(contentsOf: URL(fileURLWithPath: root + "/manifest.json"))
        let verified = try VerifiedManifest(ContentManifest.parse(manifestData), verifier: Self.signer.verifier)
        for entry in verified.files {
            try verified.verifyFile(path: entry.path, bytes: Data(contentsOf: URL(fileURLWithPath: root + "/" + entry.path)))
        }

        // Playlists: parse strictly and break no rule.
        let master = try MasterPlaylist.parse(String(contentsOfFile: root + "/master.m3u8", encoding: .utf8))
        #expect(master.violations().isEmpty, "\(master.violations())")
        let rendition = try #require(report.manifest.renditions.first)
        let media = try MediaPlaylist.parse(String(contentsOfFile: root + "/" + rendition.playlist, encoding: .utf8))
        #expect(media.violations().isEmpty, "\(media.violations())")
        #expect(media.version == (c.format == .ts ? 3 : 6))
        #expect((media.mapURI != nil) == (c.format == .fmp4))
        #expect(media.targetDuration == HLSDuration.ceilSeconds(media.segments.map(\.durationUs).max()!))

        // Master attributes are measured, not declared.
        let variant = try #require(master.variants.first)
        let sizes = report.rendition.segments.map(\.size)
        let durations = report.rendition.segments.map(\.durationUs)
        let rates: [Int] = zip(sizes, durations).map { size, us in Int((size * 8_000_000 + us - 1) / us) }
        let peak = rates.max()!
        #expect(variant.bandwidth == peak)
        let totalBits: Int64 = sizes.reduce(0, +) * 8_000_000
        let totalUs: Int64 = durations.reduce(0, +)
        let average = Int((totalBits + totalUs - 1) / totalUs)
        #expect(variant.averageBandwidth == average)
        #expect(variant.codecs?.hasPrefix(c.codecPrefix) == true, "\(variant.codecs ?? "nil")")
        if report.rendition.hasVideo {
            #expect(variant.resolution != nil && variant.frameRate != nil)
        }

        // Durations: whole segments cut at the target, and ΣEXTINF equal to the media duration within one frame.
        let reference = report.rendition.hasVideo ? "v:0" : "a:0"
        let span = try Oracle.packetSpan(input, stream: reference)
        let total = durations.reduce(0, +)
        #expect(abs(total - (span.end - span.start)) <= c.frameUs, "ΣEXTINF \(total) vs media \(span.end - span.start)")
        for duration in durations.dropLast() {
            #expect(duration >= c.hlsTime * 1_000_000, "a segment was cut before the target")
        }

        // Every segment decodes on its own and starts with a keyframe.
        let initPath = report.rendition.initSegment.map { root + "/" + $0 }
        for segment in report.rendition.segments {
            let file = try Oracle.standalone(segment: root + "/" + segment.relativePath, initSegment: initPath, scratch: scratch.path)
            #expect(try Oracle.decodeErrors(file).isEmpty, "\(segment.relativePath) does not decode cleanly")
            if report.rendition.hasVideo {
                #expect(try Oracle.firstVideoFrameIsKey(file), "\(segment.relativePath) does not start with a keyframe")
            }
        }
        // And ffmpeg's HLS demuxer plays the whole thing.
        #expect(try Oracle.decodeErrors(root + "/master.m3u8").isEmpty)
    }

    @Test(arguments: [SegmentFormat.ts, .fmp4])
    func outputIsDeterministic(_ format: SegmentFormat) async throws {
        let input = try await MediaFixtures.shared.path(.h264AAC)
        let scratch = try TemporaryDirectory("determinism")
        defer { scratch.remove() }
        let first = try Self.publish(input, format: format, hlsTime: 6, into: scratch, name: "a")
        var options = PublishOptions(inputPath: input, outputPath: scratch.path + "/b")
        options.format = format
        options.contentID = "a"
        options.artistID = "artist-1"
        let second = try Publisher.publish(options, signer: Self.signer)
        #expect(first.manifest.root == second.manifest.root)
        for file in first.manifest.files {
            let a = try Data(contentsOf: URL(fileURLWithPath: scratch.path + "/a/" + file.path))
            let b = try Data(contentsOf: URL(fileURLWithPath: scratch.path + "/b/" + file.path))
            #expect(a == b, "\(file.path) differs between runs")
            #expect(a.range(of: Data("Lavf".utf8)) == nil, "\(file.path) embeds a libav version string")
        }
        #expect(first.manifest.libav.avformat.split(separator: ".").count == 3)
    }

    @Test func longGOPsAreKeptWholeAndReported() async throws {
        let input = try await MediaFixtures.shared.path(.longGOP)
        let scratch = try TemporaryDirectory("longgop")
        defer { scratch.remove() }
        let report = try Self.publish(input, format: .ts, hlsTime: 2, into: scratch)
        #expect(report.longestSegmentUs == 5_000_000)
        #expect(report.manifest.renditions[0].targetDuration == 5)
        #expect(report.rendition.segments.map(\.durationUs) == [5_000_000, 5_000_000, 5_000_000, 1_000_000])
        for segment in report.rendition.segments {
            #expect(try Oracle.firstVideoFrameIsKey(report.outputPath + "/" + segment.relativePath))
        }
    }

    @Test func existingOutputIsRefusedUnlessForced() async throws {
        let input = try await MediaFixtures.shared.path(.videoOnly)
        let scratch = try TemporaryDirectory("force")
        defer { scratch.remove() }
        try FileManager.default.createDirectory(atPath: scratch.path + "/content", withIntermediateDirectories: false)
        try Data("old".utf8).write(to: URL(fileURLWithPath: scratch.path + "/content/old.txt"))
        #expect(throws: SegmenterError.outputExists(path: scratch.path + "/content")) {
            try Self.publish(input, format: .ts, hlsTime: 4, into: scratch)
        }
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/content/old.txt"))
        var options = PublishOptions(inputPath: input, outputPath: scratch.path + "/content")
        options.force = true
        _ = try Publisher.publish(options, signer: Self.signer)
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/content/old.txt"))
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/content/manifest.json"))
        #expect(scratch.entries() == ["content"])
    }

    @Test func cancellationLeavesNothing() async throws {
        let input = try await MediaFixtures.shared.path(.h264AAC)
        let scratch = try TemporaryDirectory("cancel")
        defer { scratch.remove() }
        let options = PublishOptions(inputPath: input, outputPath: scratch.path + "/content")
        #expect(throws: SegmenterError.cancelled) { try Publisher.publish(options, signer: Self.signer, isCancelled: { true }) }
        #expect(scratch.entries().isEmpty)
    }
}
