import Foundation
import Manifest
import Segmenter
import TestSupport

/// ffprobe/ffmpeg as independent oracles for what the segmenter wrote.
enum Oracle {
    /// Whether the first video frame of `path` is a keyframe.
    static func firstVideoFrameIsKey(_ path: String) throws -> Bool {
        let result = try ProcessRunner.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
                                                       "-show_entries", "frame=key_frame", "-of", "csv=p=0", path])
        // ffprobe may append side-data fields ("1,"), so only the first field counts.
        return result.stdout.split(separator: "\n").first?.split(separator: ",", omittingEmptySubsequences: false).first == "1"
    }

    /// Everything ffmpeg complains about while decoding all of `path`; empty when it decodes cleanly.
    static func decodeErrors(_ path: String) throws -> String {
        let result = try ProcessRunner.run("ffmpeg", ["-v", "error", "-nostdin", "-i", path, "-f", "null", "-"])
        return result.status == 0 ? result.stderr : "exit \(result.status): \(result.stderr)"
    }

    /// (first PTS, end = max(PTS + duration)) of a stream, in microseconds, from ffprobe's packet list.
    static func packetSpan(_ path: String, stream: String) throws -> (start: Int64, end: Int64) {
        let result = try ProcessRunner.run("ffprobe", ["-v", "error", "-select_streams", stream, "-show_entries",
                                                       "packet=pts_time,duration_time", "-of", "csv=p=0", path])
        var start = Int64.max, end = Int64.min
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: ",").map { Double($0) }
            guard fields.count >= 2, let pts = fields[0], let duration = fields[1] else { continue }
            start = min(start, Int64((pts * 1e6).rounded()))
            end = max(end, Int64(((pts + duration) * 1e6).rounded()))
        }
        return (start, end)
    }

    /// A standalone decodable file for one segment: the init segment prepended for fMP4.
    static func standalone(segment: String, initSegment: String?, scratch: String) throws -> String {
        guard let initSegment else { return segment }
        let joined = scratch + "/" + URL(fileURLWithPath: segment).lastPathComponent + ".mp4"
        var data = try Data(contentsOf: URL(fileURLWithPath: initSegment))
        data.append(try Data(contentsOf: URL(fileURLWithPath: segment)))
        try data.write(to: URL(fileURLWithPath: joined))
        return joined
    }
}
