import Foundation
import Manifest
import Testing
import TestSupport
@testable import Segmenter

/// Every bad input gives a precise error, and nothing that looks like output is left behind.
@Suite(.serialized) struct BadInputTests {
    static func attempt(_ input: String, format: SegmentFormat = .ts) throws -> (SegmenterError?, [String]) {
        let scratch = try TemporaryDirectory("bad")
        defer { scratch.remove() }
        var options = PublishOptions(inputPath: input, outputPath: scratch.path + "/content")
        options.format = format
        do {
            _ = try Publisher.publish(options, signer: PublishingTests.signer)
            return (nil, scratch.entries())
        } catch {
            return (error, scratch.entries())
        }
    }

    static func expectFailure(_ clip: MediaFixtures.Clip, format: SegmentFormat = .ts,
                              matches: (SegmenterError) -> Bool) async throws {
        let input = try await MediaFixtures.shared.path(clip)
        let (error, left) = try attempt(input, format: format)
        let failure = try #require(error, "\(clip.rawValue) was accepted")
        #expect(matches(failure), "\(clip.rawValue): \(failure)")
        #expect("\(failure)".contains(input), "the message names the file: \(failure)")
        #expect(left.isEmpty, "\(clip.rawValue) left \(left)")
    }

    @Test func missingFile() throws {
        let (error, left) = try Self.attempt("/nonexistent/clip.mp4")
        #expect(error == .inputMissing(path: "/nonexistent/clip.mp4"))
        #expect(left.isEmpty)
    }

    @Test func directoryAsInput() throws {
        let (error, _) = try Self.attempt(NSTemporaryDirectory())
        #expect(error == .inputNotRegularFile(path: NSTemporaryDirectory()))
    }

    @Test func unreadableFile() async throws {
        // Root reads anything, so make the file unreadable in a way root cannot bypass: a FIFO is not a regular file,
        // and a dangling symlink cannot be opened.
        let scratch = try TemporaryDirectory("unreadable")
        defer { scratch.remove() }
        let link = scratch.path + "/dangling.mp4"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: scratch.path + "/gone.mp4")
        let (error, _) = try Self.attempt(link)
        #expect(error == .inputMissing(path: link))
    }

    @Test func emptyFile() async throws {
        try await Self.expectFailure(.empty) { $0 == .inputEmpty(path: $0.path) }
    }

    @Test func notMedia() async throws {
        try await Self.expectFailure(.randomBytes) { if case .notMedia = $0 { true } else { false } }
    }

    @Test(arguments: [MediaFixtures.Clip.truncatedMP4, .truncatedMatroska, .truncatedTransportStream, .truncatedMoovAtEnd])
    func truncatedFiles(_ clip: MediaFixtures.Clip) async throws {
        try await Self.expectFailure(clip) {
            switch $0 {
            case .truncated: true
            case .notMedia(_, let reason): reason.contains("moov atom not found")
            default: false
            }
        }
    }

    /// A transport stream cut on a packet boundary demuxes cleanly; the tail checks find where it stops.
    @Test(arguments: [
        (MediaFixtures.Clip.transportStreamCutInVideo, "the last frame is cut short (video"),
        (.transportStreamCutInAudio, "ends inside a PES packet of PID 257"),
        (.mp3TransportStreamCut, "ends inside a PES packet of PID 256"),
    ])
    func transportStreamsCutOnPacketBoundaries(_ clip: MediaFixtures.Clip, reason expected: String) async throws {
        try await Self.expectFailure(clip) { if case .truncated(_, let reason) = $0 { reason.contains(expected) } else { false } }
    }

    @Test func noUsableStream() async throws {
        try await Self.expectFailure(.subtitlesOnly) { if case .noUsableStream(_, let found) = $0 { found.contains("subtitle") } else { false } }
    }

    @Test func codecsHLSCannotCarry() async throws {
        try await Self.expectFailure(.vp9) { if case .unsupportedCodec(_, let detail) = $0 { detail.contains("vp9") } else { false } }
        try await Self.expectFailure(.opus, format: .fmp4) { if case .unsupportedCodec(_, let detail) = $0 { detail.contains("opus") } else { false } }
    }

    /// A real full disk: a 1 MiB tmpfs (tests run as root, as CI does).
    @Test func diskFull() async throws {
        let input = try await MediaFixtures.shared.path(.h264AAC)
        let mount = try TemporaryDirectory("full")
        defer { mount.remove() }
        let mounted = try ProcessRunner.run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.path])
        try #require(mounted.status == 0, "cannot mount a tmpfs to fill (needs root): \(mounted.stderr)")
        defer { _ = try? ProcessRunner.run("umount", [mount.path]) }
        let options = PublishOptions(inputPath: input, outputPath: mount.path + "/content")
        #expect {
            try Publisher.publish(options, signer: PublishingTests.signer)
        } throws: { error in
            guard case .writeFailed(_, let reason) = error as? SegmenterError else { return false }
            return reason.contains("No space left on device")
        }
        #expect(mount.entries().isEmpty)
    }

    @Test func invalidOptions() async throws {
        let input = try await MediaFixtures.shared.path(.videoOnly)
        var options = PublishOptions(inputPath: input, outputPath: NSTemporaryDirectory() + "x")
        options.targetDurationUs = 0
        #expect(throws: SegmenterError.self) { try Publisher.publish(options, signer: PublishingTests.signer) }
        options = PublishOptions(inputPath: input, outputPath: NSTemporaryDirectory() + "bad name")
        #expect(throws: SegmenterError.manifest(.invalidIdentifier(field: "content id", value: "bad name"))) {
            try Publisher.publish(options, signer: PublishingTests.signer)
        }
        options = PublishOptions(inputPath: input, outputPath: "/nonexistent-parent/content")
        #expect(throws: SegmenterError.outputParentMissing(path: "/nonexistent-parent/content")) {
            try Publisher.publish(options, signer: PublishingTests.signer)
        }
    }
}

extension SegmenterError {
    /// The path an input error names.
    var path: String {
        switch self {
        case .inputEmpty(let path), .inputMissing(let path), .inputNotRegularFile(let path): path
        default: ""
        }
    }
}
