/// The HLS segment container.
public enum SegmentFormat: String, Sendable, CaseIterable {
    /// MPEG-2 transport stream segments (`.ts`).
    case ts
    /// Fragmented MP4 / CMAF-style segments (`.m4s`) with an `init.mp4`.
    case fmp4

    var muxerName: String { self == .ts ? "mpegts" : "mp4" }
    var segmentExtension: String { self == .ts ? "ts" : "m4s" }
}
