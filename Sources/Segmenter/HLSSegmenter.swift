import CLibAV
import Foundation
import Manifest

/// The media files of one rendition, as written by `HLSSegmenter`.
public struct SegmentationResult: Sendable {
    /// One written segment.
    public struct Segment: Sendable {
        public let relativePath: String
        public let durationUs: Int64
        public let size: Int64
    }

    public let renditionID: String
    public let segments: [Segment]
    public let initSegment: String?
    /// Chunk lists of every media file written (segments and init segment), by relative path.
    public let files: [String: ChunkList]
    public let codecs: String
    public let resolution: String?
    public let frameRate: String?
    public let mediaDurationUs: Int64
    public let hasVideo: Bool
    /// Video packets before the first keyframe, which cannot be decoded and were dropped.
    public let droppedLeadingPackets: Int
}

/// Remuxes one input (no re-encoding) into HLS segments, cutting only at reference-stream keyframes, hashing every
/// byte as it is written.
public final class HLSSegmenter {
    /// Codecs HLS players accept, and the containers that can carry them.
    static let videoCodecs: Set<UInt32> = [AV_CODEC_ID_H264.rawValue, AV_CODEC_ID_HEVC.rawValue]
    static let audioCodecs: Set<UInt32> = [AV_CODEC_ID_AAC.rawValue, AV_CODEC_ID_MP3.rawValue,
                                           AV_CODEC_ID_AC3.rawValue, AV_CODEC_ID_EAC3.rawValue]

    private let inputPath: String
    private let format: SegmentFormat
    private let targetUs: Int64
    private let chunkSize: Int
    private let durable: Bool
    private let progress: (@Sendable (Double) -> Void)?
    private let isCancelled: @Sendable () -> Bool

    /// - Parameters:
    ///   - progress: called with the fraction done (0...1), at most every few hundred packets.
    ///   - isCancelled: polled between packets; returning true aborts with `SegmenterError.cancelled`.
    public init(inputPath: String, format: SegmentFormat, targetDurationUs: Int64, chunkSize: Int = ChunkHasher.defaultChunkSize,
                durable: Bool = true, progress: (@Sendable (Double) -> Void)? = nil,
                isCancelled: @escaping @Sendable () -> Bool = { false }) {
        self.inputPath = inputPath
        self.format = format
        self.targetUs = targetDurationUs
        self.chunkSize = chunkSize
        self.durable = durable
        self.progress = progress
        self.isCancelled = isCancelled
    }

    /// Writes the rendition's media files under `directory` (which must exist) in a subdirectory named after the
    /// rendition.
    public func run(into directory: String) throws(SegmenterError) -> SegmentationResult {
        let input = try InputMedia(path: inputPath)
        let renditionID = input.video.map { "\($0.pointee.codecpar.pointee.height)p" } ?? "audio"
        let renditionDirectory = directory + "/" + renditionID
        do {
            try FileManager.default.createDirectory(atPath: renditionDirectory, withIntermediateDirectories: false)
        } catch {
            throw .writeFailed(path: renditionID, reason: "\(error.localizedDescription)")
        }
        let pipeline = ChunkPipeline(chunkSize: chunkSize, durable: durable)
        let output = MuxOutput(pipeline: pipeline, directory: directory)
        let muxResult = Result { () throws(SegmenterError) in try remux(input, output: output, renditionID: renditionID) }
        // Always drain the worker so no file descriptor outlives the call. A write failure there (disk full, say)
        // is the root cause of any mux error that followed it, so it is the one reported.
        let files = try pipeline.finish()
        let summary = try muxResult.get()
        if let empty = summary.segmentPaths.first(where: { (files[$0]?.size ?? 0) == 0 }) {
            throw .muxFailed(operation: "segmenting", reason: "\(empty) came out empty")
        }
        let segments = summary.segmentPaths.enumerated().map { index, path in
            SegmentationResult.Segment(relativePath: path, durationUs: summary.durations[index], size: files[path]?.size ?? 0)
        }
        return SegmentationResult(
            renditionID: renditionID, segments: segments, initSegment: summary.initPath, files: files,
            codecs: input.codecs, resolution: input.resolution, frameRate: input.frameRate,
            mediaDurationUs: summary.mediaDurationUs, hasVideo: input.video != nil,
            droppedLeadingPackets: summary.dropped)
    }

    private struct MuxSummary {
        var segmentPaths: [String]
        var durations: [Int64]
        var initPath: String?
        var mediaDurationUs: Int64
        var dropped: Int
    }

    private func remux(_ input: InputMedia, output: MuxOutput, renditionID: String) throws(SegmenterError) -> MuxSummary {
        let muxer = try OutputMuxer(format: format, input: input, output: output)
        let segmentName = { (index: Int) in "\(renditionID)/seg_\(String(format: "%05d", index)).\(self.format.segmentExtension)" }
        var initPath: String?
        if format == .fmp4 {
            initPath = "\(renditionID)/init.mp4"
            try output.captureInitSegment(relativePath: initPath!)
        }
        var segmentPaths = [segmentName(0)]
        try output.beginSegment(relativePath: segmentPaths[0])
        try muxer.writeHeader()

        let reference = input.video ?? input.audio!
        var planner = SegmentPlanner(targetUs: targetUs, fallbackPacketUs: input.frameDurationUs(reference))
        let totalUs = max(Int64(input.context.pointee.duration), 1)
        var dropped = 0
        var packetCount = 0
        var tails = StreamTails()
        guard let packet = av_packet_alloc() else { throw .muxFailed(operation: "av_packet_alloc", reason: "out of memory") }
        var packetPointer: UnsafeMutablePointer<AVPacket>? = packet
        defer { av_packet_free(&packetPointer) }
        while true {
            let status = av_read_frame(input.context, packet)
            if status == shim_AVERROR_EOF() { break }
            if status < 0 {
                throw status == shim_AVERROR_INVALIDDATA()
                    ? .truncated(path: inputPath, reason: LibAV.detail(status))
                    : .readFailed(path: inputPath, reason: LibAV.detail(status))
            }
            defer { av_packet_unref(packet) }
            packetCount += 1
            if packetCount % 256 == 0 {
                if isCancelled() { throw .cancelled }
                if let progress, packet.pointee.pts != shim_AV_NOPTS_VALUE() {
                    let stream = input.context.pointee.streams[Int(packet.pointee.stream_index)]!
                    let us = av_rescale_q(packet.pointee.pts, stream.pointee.time_base, LibAV.microseconds)
                    progress(min(1, max(0, Double(us) / Double(totalUs))))
                }
            }
            if packet.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 {
                throw .truncated(path: inputPath, reason: "corrupt packet at byte \(packet.pointee.pos)")
            }
            let inputIndex = Int(packet.pointee.stream_index)
            guard let outputIndex = muxer.outputIndex(forInput: inputIndex) else { continue }
            let stream = input.context.pointee.streams[inputIndex]!
            tails.record(packet, isVideo: stream == input.video)
            if stream == reference {
                let timestamp = packet.pointee.pts != shim_AV_NOPTS_VALUE() ? packet.pointee.pts : packet.pointee.dts
                if timestamp != shim_AV_NOPTS_VALUE() {
                    let decision = planner.onReferencePacket(
                        ptsUs: av_rescale_q(timestamp, stream.pointee.time_base, LibAV.microseconds),
                        durationUs: av_rescale_q(packet.pointee.duration, stream.pointee.time_base, LibAV.microseconds),
                        isKeyframe: packet.pointee.flags & AV_PKT_FLAG_KEY != 0)
                    switch decision {
                    case .dropLeading:
                        dropped += 1
                        continue
                    case .cut:
                        try muxer.flush()
                        try output.endSegment()
                        segmentPaths.append(segmentName(segmentPaths.count))
                        try output.beginSegment(relativePath: segmentPaths.last!)
                        muxer.segmentDidStart()
                    case .keyframe where format == .fmp4:
                        // One fragment per GOP: libav's mp4 muxer buffers a whole fragment, so this bounds memory
                        // by the GOP rather than the segment (CMAF segments may hold several fragments).
                        try muxer.flush()
                    case .keep, .keyframe:
                        break
                    }
                }
            }
            try muxer.write(packet, from: stream, toOutput: outputIndex)
        }
        let durations = planner.durations()
        guard !durations.isEmpty else {
            throw .truncated(path: inputPath, reason: "no decodable keyframe in the \(reference == input.video ? "video" : "audio") stream")
        }
        try input.checkComplete(referenceEndUs: planner.mediaDurationUs, reference: reference, tails: tails)
        try muxer.finish()
        try output.endSegment()
        try output.finish()
        progress?(1)
        return MuxSummary(segmentPaths: segmentPaths, durations: durations, initPath: initPath,
                          mediaDurationUs: planner.mediaDurationUs, dropped: dropped)
    }
}
