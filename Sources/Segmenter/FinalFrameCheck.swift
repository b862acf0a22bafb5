import CLibAV

/// Finds an MPEG-TS input cut inside its last video access unit or its last audio frame.
///
/// MPEG-TS has no end marker and declares no duration, and muxers write video PES packets without a length, so a
/// file cut on a 188-byte boundary inside a frame demuxes without complaint: the last packet is simply short. Only
/// decoding shows it. This decodes the input's tail (video from its last keyframe, audio from a few frames before
/// its end; one thread, libav's strictest error recognition) and reports whether a stream's final frame failed to
/// decode. Earlier frames of the tail are decoded only as references; an error there is not taken as truncation.
///
/// A cut that lands exactly on a PES boundary leaves a valid, shorter stream: nothing in the format tells it from a
/// file that ends there, so no check can refuse it.
struct FinalFrameCheck {
    /// Audio frames decoded before the last one, so that codecs with inter-frame state (MP3's bit reservoir) have it.
    static let audioLeadIn = 8

    let context: UnsafeMutablePointer<AVFormatContext>
    /// The streams to check, each with the byte position its tail starts at (a keyframe packet for video).
    let streams: [(stream: UnsafeMutablePointer<AVStream>, tailStart: Int64)]

    /// Seeks `context` (which has been read to its end) back to the earliest tail and decodes to the end.
    /// - Returns: a description of the first stream whose final frame does not decode, nil when all do.
    func finalFrameFailure() throws(SegmenterError) -> String? {
        guard let start = streams.map(\.tailStart).min() else { return nil }
        var decoders: [Int32: StreamDecoder] = [:]
        for (stream, tailStart) in streams {
            guard let decoder = try StreamDecoder(stream: stream, tailStart: tailStart) else { continue }
            decoders[stream.pointee.index] = decoder
        }
        let status = av_seek_frame(context, -1, start, AVSEEK_FLAG_BYTE)
        guard status >= 0 else { throw .readFailed(path: String(cString: context.pointee.url), reason: LibAV.detail(status)) }
        guard let packet = av_packet_alloc() else { throw .muxFailed(operation: "av_packet_alloc", reason: "out of memory") }
        var packetPointer: UnsafeMutablePointer<AVPacket>? = packet
        defer { av_packet_free(&packetPointer) }
        while true {
            let read = av_read_frame(context, packet)
            if read == shim_AVERROR_EOF() { break }
            guard read >= 0 else { return LibAV.detail(read) }
            defer { av_packet_unref(packet) }
            decoders[packet.pointee.stream_index]?.decode(packet)
        }
        return decoders.values.sorted { $0.index < $1.index }.lazy.compactMap { $0.finish() }.first
    }
}

/// One stream's strict decoder over the tail of an input.
private final class StreamDecoder {
    let index: Int32
    private let kind: String
    private let tailStart: Int64
    private var context: UnsafeMutablePointer<AVCodecContext>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private let scanned: AccessUnitScan.Codec?
    private var started = false
    private var lastFailure: String?
    /// The presentation time of the last packet sent, and those of frames the decoder flagged as damaged
    /// (concealed, missing slices): the decoder conceals a picture whose slice data stops early rather than fail.
    private var lastTimestamp: Int64?
    private var damaged: Set<Int64> = []

    /// Nil when libav has no decoder for the stream's codec (nothing to check).
    init?(stream: UnsafeMutablePointer<AVStream>, tailStart: Int64) throws(SegmenterError) {
        index = stream.pointee.index
        self.tailStart = tailStart
        let parameters = stream.pointee.codecpar!
        kind = parameters.pointee.codec_type == AVMEDIA_TYPE_VIDEO ? "video" : "audio"
        switch parameters.pointee.codec_id {
        case AV_CODEC_ID_H264: scanned = .h264
        case AV_CODEC_ID_HEVC: scanned = .hevc
        default: scanned = nil
        }
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else { return nil }
        guard let context = avcodec_alloc_context3(codec), let frame = av_frame_alloc() else {
            throw .muxFailed(operation: "avcodec_alloc_context3", reason: "out of memory")
        }
        self.context = context
        self.frame = frame
        var status = avcodec_parameters_to_context(context, parameters)
        guard status >= 0 else { throw .muxFailed(operation: "avcodec_parameters_to_context", reason: LibAV.detail(status)) }
        context.pointee.thread_count = 1
        context.pointee.err_recognition = AV_EF_EXPLODE | AV_EF_BUFFER | AV_EF_BITSTREAM | AV_EF_CRCCHECK
        status = avcodec_open2(context, codec, nil)
        guard status >= 0 else { throw .muxFailed(operation: "avcodec_open2", reason: LibAV.detail(status)) }
    }

    deinit {
        avcodec_free_context(&context)
        av_frame_free(&frame)
    }

    /// Decodes one packet of the tail; video starts at the first keyframe at or after the tail's start.
    func decode(_ packet: UnsafeMutablePointer<AVPacket>) {
        if !started {
            guard packet.pointee.pos >= tailStart, kind == "audio" || packet.pointee.flags & AV_PKT_FLAG_KEY != 0 else { return }
            started = true
        }
        if let scanned, let data = packet.pointee.data,
           !AccessUnitScan.containsPicture(UnsafeRawBufferPointer(start: data, count: Int(packet.pointee.size)), codec: scanned) {
            lastFailure = "the last access unit holds no coded picture"
            return
        }
        lastTimestamp = packet.pointee.pts == shim_AV_NOPTS_VALUE() ? nil : packet.pointee.pts
        lastFailure = send(packet)
    }

    /// Flushes the decoder. - Returns: why the final frame did not decode, or nil.
    func finish() -> String? {
        guard started else { return nil }
        var failure = send(nil) ?? lastFailure
        if failure == nil, let lastTimestamp, damaged.contains(lastTimestamp) {
            failure = "the last picture decodes only with error concealment"
        }
        guard let failure else { return nil }
        return "\(kind): \(failure)"
    }

    /// Sends `packet` (nil: flush) and drains every frame it releases; nil when the decoder accepted it.
    private func send(_ packet: UnsafeMutablePointer<AVPacket>?) -> String? {
        var failure: String?
        let sent = avcodec_send_packet(context, packet)
        if sent < 0 && sent != shim_AVERROR(EAGAIN) && sent != shim_AVERROR_EOF() { failure = LibAV.detail(sent) }
        while true {
            let received = avcodec_receive_frame(context, frame)
            if received == shim_AVERROR(EAGAIN) || received == shim_AVERROR_EOF() { break }
            if received < 0 {
                failure = failure ?? LibAV.detail(received)
                break
            }
            if let frame, frame.pointee.decode_error_flags != 0 || frame.pointee.flags & AV_FRAME_FLAG_CORRUPT != 0 {
                damaged.insert(frame.pointee.pts == shim_AV_NOPTS_VALUE() ? frame.pointee.best_effort_timestamp : frame.pointee.pts)
            }
            av_frame_unref(frame)
        }
        return failure
    }
}

/// Where the tails `FinalFrameCheck` decodes start, kept while an input is read: the video stream's last keyframe
/// and the audio packet `FinalFrameCheck.audioLeadIn` packets before the last one.
struct StreamTails {
    private(set) var videoStart: Int64?
    private var audioPositions: [Int64] = []
    private var next = 0

    /// The earliest of the last few audio packets' positions.
    var audioStart: Int64? { audioPositions.min() }

    /// Notes a packet of one of the streams being segmented (the video stream, or else the audio stream).
    mutating func record(_ packet: UnsafeMutablePointer<AVPacket>, isVideo: Bool) {
        let position = packet.pointee.pos
        guard position >= 0 else { return }
        if isVideo {
            if packet.pointee.flags & AV_PKT_FLAG_KEY != 0 { videoStart = position }
        } else if audioPositions.count <= FinalFrameCheck.audioLeadIn {
            audioPositions.append(position)
        } else {
            audioPositions[next] = position
            next = (next + 1) % audioPositions.count
        }
    }
}
