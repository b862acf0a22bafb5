import Foundation

/// Test media generated on this machine with ffmpeg (lavfi sources, libx264/libx265, no downloads), made once per
/// test process and shared between tests.
public actor MediaFixtures {
    public static let shared = MediaFixtures()

    /// Every clip the tests use.
    public enum Clip: String, CaseIterable, Sendable {
        /// H.264 High (B-frames) + AAC-LC, 640x360, 30 fps, 2 s GOPs, 20 s, moov first.
        case h264AAC = "h264-aac.mp4"
        case h264AACMatroska = "h264-aac.mkv"
        case h264AACTransportStream = "h264-aac.ts"
        /// H.265 + AAC, 320x240, 25 fps, 2 s GOPs, 10 s.
        case hevcAAC = "hevc-aac.mp4"
        /// H.264 only, 10 s.
        case videoOnly = "video-only.mp4"
        /// AAC only, 15 s.
        case audioOnly = "audio-only.m4a"
        /// MP3 in MPEG-TS, audio only, 8 s.
        case mp3TransportStream = "mp3.ts"
        /// H.264 + AC-3 in Matroska, 8 s.
        case h264AC3Matroska = "h264-ac3.mkv"
        /// 5 s GOPs, 16 s: longer than a 2 s target.
        case longGOP = "long-gop.mp4"
        case vp9 = "vp9.webm"
        case opus = "opus.mka"
        case subtitlesOnly = "subtitles.srt"
        case randomBytes = "random.bin"
        case empty = "empty.mp4"
        case truncatedMP4 = "truncated.mp4"
        case truncatedMatroska = "truncated.mkv"
        case truncatedTransportStream = "truncated.ts"
        case truncatedMoovAtEnd = "truncated-moov-at-end.mp4"
        /// H.264 + AAC MPEG-TS cut on a transport-packet boundary inside a video frame (PID 0x100).
        case transportStreamCutInVideo = "cut-in-video.ts"
        /// H.264 + AAC MPEG-TS cut on a transport-packet boundary inside an audio PES packet (PID 0x101).
        case transportStreamCutInAudio = "cut-in-audio.ts"
        /// MP3 MPEG-TS cut on a transport-packet boundary inside a PES packet (PID 0x100).
        case mp3TransportStreamCut = "mp3-cut.ts"
    }

    private let directory: String
    private var made: [Clip: String] = [:]

    private init() {
        directory = NSTemporaryDirectory() + "edgenode-fixtures-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The path of `clip`, generating it (and what it is made from) on first use.
    public func path(_ clip: Clip) throws -> String {
        if let path = made[clip] { return path }
        let path = directory + "/" + clip.rawValue
        switch clip {
        case .h264AAC:
            try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                        "-t", "20", "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", path])
        case .h264AACMatroska, .h264AACTransportStream:
            try ffmpeg(["-i", try self.path(.h264AAC), "-c", "copy", path])
        case .hevcAAC:
            try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=330",
                        "-t", "10", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=50:min-keyint=50:scenecut=0",
                        "-tag:v", "hvc1", "-pix_fmt", "yuv420p", "-c:a", "aac", path])
        case .videoOnly:
            try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "10", "-c:v", "libx264", "-preset", "veryfast",
                        "-g", "60", "-sc_threshold", "0", "-pix_fmt", "yuv420p", path])
        case .audioOnly:
            try ffmpeg(["-f", "lavfi", "-i", "sine=frequency=550:sample_rate=44100", "-t", "15", "-c:a", "aac", path])
        case .mp3TransportStream:
            try ffmpeg(["-f", "lavfi", "-i", "sine=frequency=660:sample_rate=44100", "-t", "8", "-c:a", "libmp3lame", "-f", "mpegts", path])
        case .h264AC3Matroska:
            try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000",
                        "-t", "8", "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
                        "-c:a", "ac3", path])
        case .longGOP:
            try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "16", "-c:v", "libx264", "-preset", "veryfast",
                        "-g", "150", "-keyint_min", "150", "-sc_threshold", "0", "-pix_fmt", "yuv420p", path])
        case .vp9:
            try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "2", "-c:v", "libvpx-vp9", path])
        case .opus:
            try ffmpeg(["-f", "lavfi", "-i", "sine", "-t", "2", "-c:a", "libopus", path])
        case .subtitlesOnly:
            try Data("1\n00:00:00,000 --> 00:00:02,000\nHello\n".utf8).write(to: URL(fileURLWithPath: path))
        case .randomBytes:
            var generator = SystemRandomNumberGenerator()
            try Data((0..<100_000).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: path))
        case .empty:
            try Data().write(to: URL(fileURLWithPath: path))
        case .truncatedMP4:
            try truncate(try self.path(.h264AAC), to: path, fraction: 0.4)
        case .truncatedMatroska:
            try truncate(try self.path(.h264AACMatroska), to: path, fraction: 0.5)
        case .truncatedTransportStream:
            try truncate(try self.path(.h264AACTransportStream), to: path, fraction: 0.5, extra: 100)
        case .truncatedMoovAtEnd:
            let moovAtEnd = directory + "/moov-at-end.mp4"
            try ffmpeg(["-i", try self.path(.h264AAC), "-c", "copy", "-movflags", "-faststart", moovAtEnd])
            try truncate(moovAtEnd, to: path, fraction: 0.5)
        case .transportStreamCutInVideo:
            try cutInsidePES(try self.path(.h264AACTransportStream), to: path, pid: 0x100)
        case .transportStreamCutInAudio:
            try cutInsidePES(try self.path(.h264AACTransportStream), to: path, pid: 0x101)
        case .mp3TransportStreamCut:
            try cutInsidePES(try self.path(.mp3TransportStream), to: path, pid: 0x100)
        }
        made[clip] = path
        return path
    }

    private func ffmpeg(_ arguments: [String]) throws {
        let result = try ProcessRunner.run("ffmpeg", ["-v", "error", "-y", "-nostdin"] + arguments, timeout: 300)
        guard result.status == 0 else { throw FixtureError(message: "ffmpeg \(arguments.joined(separator: " ")): \(result.stderr)") }
    }

    /// Keeps `fraction` of the file, rounded down to a multiple of 188, plus `extra` bytes.
    private func truncate(_ source: String, to path: String, fraction: Double, extra: Int = 0) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        let keep = Int(Double(data.count) * fraction) / 188 * 188 + extra
        try data.prefix(keep).write(to: URL(fileURLWithPath: path))
    }

    /// Cuts an MPEG-TS file on a 188-byte boundary after the middle, where a PES packet of `pid` continues in the
    /// next two transport packets: the file ends inside that PES packet, as a copy or download cut short does.
    private func cutInsidePES(_ source: String, to path: String, pid: Int) throws {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        func continues(_ index: Int) -> Bool {
            let start = index * 188
            guard start + 188 <= data.count, data[start] == 0x47 else { return false }
            return data[start + 1] & 0x40 == 0 && Int(data[start + 1] & 0x1f) << 8 | Int(data[start + 2]) == pid
        }
        guard let index = (data.count / 188 / 2..<data.count / 188).first(where: { continues($0) && continues($0 + 1) }) else {
            throw FixtureError(message: "\(source): no PES packet of PID \(pid) after the middle")
        }
        try Data(data.prefix(index * 188)).write(to: URL(fileURLWithPath: path))
    }
}

/// A fixture could not be made.
public struct FixtureError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
