/// Decides where segments start, from the reference stream's packets alone (video if present, else audio).
///
/// Rule: a new segment starts at the first keyframe whose presentation time is at least the target duration
/// after the current segment's start. A GOP is never split, so a GOP longer than the target yields a longer
/// segment, which `longestUs` reports. Boundaries are kept in integer microseconds so that the segment durations
/// add up exactly to the media duration.
public struct SegmentPlanner: Sendable {
    /// What to do with a reference-stream packet.
    public enum Decision: Equatable, Sendable {
        /// Belongs to the current segment.
        case keep
        /// A keyframe inside the current segment: a fragment may end here.
        case keyframe
        /// Starts a new segment: close the current one first.
        case cut
        /// Precedes the first keyframe and cannot be decoded: drop it.
        case dropLeading
    }

    /// Target segment duration.
    public let targetUs: Int64
    /// Duration assumed for a packet that carries none (one frame).
    public let fallbackPacketUs: Int64
    private var startUs: Int64?
    private var firstStartUs: Int64?
    private var endUs: Int64 = .min
    /// Start times of every segment opened so far.
    public private(set) var boundaries: [Int64] = []

    public init(targetUs: Int64, fallbackPacketUs: Int64) {
        precondition(targetUs > 0)
        self.targetUs = targetUs
        self.fallbackPacketUs = max(0, fallbackPacketUs)
    }

    /// Feeds one reference-stream packet (presentation time and duration in microseconds).
    public mutating func onReferencePacket(ptsUs: Int64, durationUs: Int64, isKeyframe: Bool) -> Decision {
        let duration = durationUs > 0 ? durationUs : fallbackPacketUs
        guard let start = startUs else {
            guard isKeyframe else { return .dropLeading }
            startUs = ptsUs
            firstStartUs = ptsUs
            boundaries.append(ptsUs)
            endUs = ptsUs + duration
            return .keep
        }
        endUs = max(endUs, ptsUs + duration)
        guard isKeyframe else { return .keep }
        if ptsUs - start >= targetUs {
            startUs = ptsUs
            boundaries.append(ptsUs)
            return .cut
        }
        return .keyframe
    }

    /// Segment durations once the input is exhausted; empty when no keyframe was ever seen.
    public func durations() -> [Int64] {
        guard !boundaries.isEmpty else { return [] }
        var result: [Int64] = []
        for index in boundaries.indices {
            let end = index + 1 < boundaries.count ? boundaries[index + 1] : endUs
            result.append(end - boundaries[index])
        }
        return result
    }

    /// The media duration covered by the segments.
    public var mediaDurationUs: Int64 {
        guard let first = firstStartUs else { return 0 }
        return endUs - first
    }
}
