import CLibAV
import Foundation

/// One libav muxer (mpegts or fragmented mp4) writing through a custom AVIO context into a `MuxOutput`.
final class OutputMuxer {
    private let format: SegmentFormat
    private let output: MuxOutput
    private let context: UnsafeMutablePointer<AVFormatContext>
    private var io: UnsafeMutablePointer<AVIOContext>?
    private var streamMap: [Int: Int] = [:]
    /// Bitstream filters by output stream (ADTS AAC into MP4 needs aac_adtstoasc).
    private var filters: [Int: UnsafeMutablePointer<AVBSFContext>] = [:]
    private let filtered: UnsafeMutablePointer<AVPacket>
    private var unmanaged: Unmanaged<MuxOutput>
    /// fMP4 only: whether the delayed `moov` has been written yet.
    private var initWritten = false

    private static let ioBufferSize: Int32 = 64 * 1024

    init(format: SegmentFormat, input: InputMedia, output: MuxOutput) throws(SegmenterError) {
        self.format = format
        self.output = output
        var context: UnsafeMutablePointer<AVFormatContext>?
        let allocated = avformat_alloc_output_context2(&context, nil, format.muxerName, nil)
        guard allocated >= 0, let context else {
            throw .muxFailed(operation: "avformat_alloc_output_context2", reason: LibAV.detail(allocated))
        }
        self.context = context
        guard let filtered = av_packet_alloc() else { throw .muxFailed(operation: "av_packet_alloc", reason: "out of memory") }
        self.filtered = filtered
        unmanaged = Unmanaged.passRetained(output)
        // Bit-exact output: no encoder version strings or wall-clock times, so hashes are reproducible.
        context.pointee.flags |= AVFMT_FLAG_BITEXACT
        av_dict_set(&context.pointee.metadata, "service_provider", "edgenode", 0)
        av_dict_set(&context.pointee.metadata, "service_name", "edgenode", 0)
        for stream in [input.video, input.audio].compactMap({ $0 }) {
            guard let created = avformat_new_stream(context, nil) else {
                throw .muxFailed(operation: "avformat_new_stream", reason: "out of memory")
            }
            let copied = avcodec_parameters_copy(created.pointee.codecpar, stream.pointee.codecpar)
            guard copied >= 0 else { throw .muxFailed(operation: "avcodec_parameters_copy", reason: LibAV.detail(copied)) }
            created.pointee.codecpar.pointee.codec_tag = 0
            if format == .fmp4 && stream.pointee.codecpar.pointee.codec_id == AV_CODEC_ID_HEVC {
                // Apple HLS authoring 1.10: hvc1 (parameter sets in the sample entry), not hev1.
                created.pointee.codecpar.pointee.codec_tag = Self.fourCC("hvc1")
            }
            created.pointee.time_base = stream.pointee.time_base
            streamMap[Int(stream.pointee.index)] = Int(created.pointee.index)
            let parameters = stream.pointee.codecpar.pointee
            if format == .fmp4 && parameters.codec_id == AV_CODEC_ID_AAC && parameters.extradata_size == 0 {
                // AAC from MPEG-TS carries ADTS headers and no AudioSpecificConfig; MP4 needs the reverse.
                filters[Int(created.pointee.index)] = try Self.makeFilter("aac_adtstoasc", for: stream)
            }
        }
        guard let buffer = av_malloc(Int(Self.ioBufferSize)) else {
            throw .muxFailed(operation: "av_malloc", reason: "out of memory")
        }
        let write: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int32) -> Int32 = { opaque, bytes, count in
            guard let opaque, let bytes, count >= 0 else { return -1 }
            return Unmanaged<MuxOutput>.fromOpaque(opaque).takeUnretainedValue().write(bytes, count: Int(count))
        }
        io = avio_alloc_context(buffer.assumingMemoryBound(to: UInt8.self), Self.ioBufferSize, 1,
                                unmanaged.toOpaque(), nil, write, nil)
        guard let io else {
            av_free(buffer)
            throw .muxFailed(operation: "avio_alloc_context", reason: "out of memory")
        }
        io.pointee.seekable = 0
        context.pointee.pb = io
    }

    deinit {
        for filter in filters.values {
            var pointer: UnsafeMutablePointer<AVBSFContext>? = filter
            av_bsf_free(&pointer)
        }
        var packet: UnsafeMutablePointer<AVPacket>? = filtered
        av_packet_free(&packet)
        if let io {
            av_freep(&io.pointee.buffer)
            var pointer: UnsafeMutablePointer<AVIOContext>? = io
            avio_context_free(&pointer)
        }
        context.pointee.pb = nil
        avformat_free_context(context)
        unmanaged.release()
    }

    private static func fourCC(_ text: String) -> UInt32 {
        let bytes = Array(text.utf8)
        return UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }

    /// The output stream index for an input stream, or nil when that stream is not carried.
    func outputIndex(forInput index: Int) -> Int? { streamMap[index] }

    func writeHeader() throws(SegmenterError) {
        var options: OpaquePointer?
        defer { av_dict_free(&options) }
        if format == .fmp4 {
            // One fragment per segment, cut only when we flush; the moov is written with the first fragment, once
            // every stream's parameters are final (AAC from ADTS needs that).
            av_dict_set(&options, "movflags", "+frag_custom+empty_moov+delay_moov+default_base_moof+skip_trailer", 0)
        }
        try check(avformat_write_header(context, &options), "avformat_write_header")
        if let leftover = av_dict_get(options, "", nil, AV_DICT_IGNORE_SUFFIX) {
            throw .muxFailed(operation: "avformat_write_header", reason: "option \(String(cString: leftover.pointee.key)) not recognised")
        }
    }

    private static func makeFilter(_ name: String, for stream: UnsafeMutablePointer<AVStream>) throws(SegmenterError) -> UnsafeMutablePointer<AVBSFContext> {
        guard let definition = av_bsf_get_by_name(name) else { throw .muxFailed(operation: "av_bsf_get_by_name", reason: "\(name) missing") }
        var context: UnsafeMutablePointer<AVBSFContext>?
        let allocated = av_bsf_alloc(definition, &context)
        guard allocated >= 0, let context else { throw .muxFailed(operation: "av_bsf_alloc", reason: LibAV.detail(allocated)) }
        avcodec_parameters_copy(context.pointee.par_in, stream.pointee.codecpar)
        context.pointee.time_base_in = stream.pointee.time_base
        let initialised = av_bsf_init(context)
        guard initialised >= 0 else {
            var pointer: UnsafeMutablePointer<AVBSFContext>? = context
            av_bsf_free(&pointer)
            throw .muxFailed(operation: "av_bsf_init(\(name))", reason: LibAV.detail(initialised))
        }
        return context
    }

    /// Rescales `packet` from the input stream's time base and hands it (through the stream's bitstream filter,
    /// if any) to the interleaver.
    func write(_ packet: UnsafeMutablePointer<AVPacket>, from stream: UnsafeMutablePointer<AVStream>, toOutput index: Int) throws(SegmenterError) {
        guard let bsf = filters[index] else {
            try interleave(packet, timeBase: stream.pointee.time_base, toOutput: index)
            return
        }
        try check(av_bsf_send_packet(bsf, packet), "av_bsf_send_packet")
        try drain(bsf, timeBase: stream.pointee.time_base, toOutput: index)
    }

    private func drain(_ bsf: UnsafeMutablePointer<AVBSFContext>, timeBase: AVRational, toOutput index: Int) throws(SegmenterError) {
        while true {
            let received = av_bsf_receive_packet(bsf, filtered)
            if received == shim_AVERROR(EAGAIN) || received == shim_AVERROR_EOF() { return }
            try check(received, "av_bsf_receive_packet")
            defer { av_packet_unref(filtered) }
            try interleave(filtered, timeBase: timeBase, toOutput: index)
        }
    }

    private func interleave(_ packet: UnsafeMutablePointer<AVPacket>, timeBase: AVRational, toOutput index: Int) throws(SegmenterError) {
        let outputStream = context.pointee.streams[index]!
        av_packet_rescale_ts(packet, timeBase, outputStream.pointee.time_base)
        packet.pointee.stream_index = Int32(index)
        packet.pointee.pos = -1
        try check(av_interleaved_write_frame(context, packet), "av_interleaved_write_frame")
    }

    /// Pushes every queued packet and the muxer's own buffers (pending PES, the open fragment) into the current
    /// segment.
    func flush() throws(SegmenterError) {
        try check(av_interleaved_write_frame(context, nil), "av_interleaved_write_frame(flush)")
        if format == .fmp4 && !initWritten {
            // With delay_moov the first flush writes only the moov and keeps the samples; the next one writes them.
            try check(av_write_frame(context, nil), "av_write_frame(init)")
            initWritten = true
        }
        try check(av_write_frame(context, nil), "av_write_frame(flush)")
        avio_flush(io)
        try check(io?.pointee.error ?? 0, "avio_flush")
    }

    /// Called after a new segment has begun: TS segments must each start with PAT and PMT (RFC 8216 §3.2).
    func segmentDidStart() {
        if format == .ts { av_opt_set(context.pointee.priv_data, "mpegts_flags", "+resend_headers", 0) }
    }

    /// Drains the bitstream filters, flushes and writes the trailer into the last segment.
    func finish() throws(SegmenterError) {
        for (index, bsf) in filters {
            try check(av_bsf_send_packet(bsf, nil), "av_bsf_send_packet(flush)")
            try drain(bsf, timeBase: bsf.pointee.time_base_out, toOutput: index)
        }
        try flush()
        try check(av_write_trailer(context), "av_write_trailer")
        avio_flush(io)
        try check(io?.pointee.error ?? 0, "avio_flush")
    }

    private func check(_ status: Int32, _ operation: String) throws(SegmenterError) {
        if let failure = output.failure { throw failure }
        guard status >= 0 else { throw .muxFailed(operation: operation, reason: LibAV.detail(status)) }
    }
}
