import CLibAV
import Foundation

/// An opened input file with the streams chosen for HLS and their RFC 6381 codec strings.
final class InputMedia {
    let path: String
    let context: UnsafeMutablePointer<AVFormatContext>
    let video: UnsafeMutablePointer<AVStream>?
    let audio: UnsafeMutablePointer<AVStream>?
    let codecs: String
    let resolution: String?
    let frameRate: String?

    init(path: String) throws(SegmenterError) {
        self.path = path
        try Self.checkReadable(path)
        var context: UnsafeMutablePointer<AVFormatContext>?
        let opened = avformat_open_input(&context, path, nil, nil)
        guard opened >= 0, let context else {
            throw opened == shim_AVERROR_INVALIDDATA()
                ? .notMedia(path: path, reason: LibAV.detail(opened))
                : .inputUnreadable(path: path, reason: LibAV.detail(opened))
        }
        self.context = context
        let probed = avformat_find_stream_info(context, nil)
        guard probed >= 0 else {
            var pointer: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&pointer)
            throw .notMedia(path: path, reason: LibAV.detail(probed))
        }
        var video: UnsafeMutablePointer<AVStream>?
        var audio: UnsafeMutablePointer<AVStream>?
        var found: [String] = []
        for index in 0..<Int(context.pointee.nb_streams) {
            let stream = context.pointee.streams[index]!
            let parameters = stream.pointee.codecpar.pointee
            let name = String(cString: avcodec_get_name(parameters.codec_id))
            let attachedPicture = stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0
            // A stream declared (in an MPEG-TS PMT, say) whose packets never came has no parameters: not usable.
            switch parameters.codec_type {
            case AVMEDIA_TYPE_VIDEO where parameters.width <= 0 || parameters.height <= 0:
                found.append("video \(name) without data")
            case AVMEDIA_TYPE_AUDIO where parameters.sample_rate <= 0:
                found.append("audio \(name) without data")
            case AVMEDIA_TYPE_VIDEO where !attachedPicture:
                found.append("video \(name)")
                if video == nil { video = stream }
            case AVMEDIA_TYPE_AUDIO:
                found.append("audio \(name)")
                if audio == nil { audio = stream }
            default:
                found.append("\(av_get_media_type_string(parameters.codec_type).map { String(cString: $0) } ?? "other") \(name)")
            }
        }
        self.video = video
        self.audio = audio
        do throws(SegmenterError) {
            guard video != nil || audio != nil else {
                throw .noUsableStream(path: path, found: found.isEmpty ? "no streams" : found.joined(separator: ", "))
            }
            var codecStrings: [String] = []
            if let video { codecStrings.append(try Self.videoCodec(video, path: path)) }
            if let audio { codecStrings.append(try Self.audioCodec(audio, path: path)) }
            codecs = codecStrings.joined(separator: ",")
        } catch {
            var pointer: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&pointer)
            throw error
        }
        if let video {
            let parameters = video.pointee.codecpar.pointee
            resolution = "\(parameters.width)x\(parameters.height)"
            var rate = video.pointee.avg_frame_rate
            if rate.num <= 0 || rate.den <= 0 { rate = video.pointee.r_frame_rate }
            frameRate = rate.num > 0 && rate.den > 0 ? String(format: "%.3f", Double(rate.num) / Double(rate.den)) : nil
        } else {
            resolution = nil
            frameRate = nil
        }
    }

    deinit {
        var pointer: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&pointer)
    }

    /// One frame (video) or one audio frame, for packets that carry no duration.
    func frameDurationUs(_ stream: UnsafeMutablePointer<AVStream>) -> Int64 {
        let parameters = stream.pointee.codecpar.pointee
        if parameters.codec_type == AVMEDIA_TYPE_AUDIO {
            guard parameters.sample_rate > 0, parameters.frame_size > 0 else { return 0 }
            return Int64(parameters.frame_size) * 1_000_000 / Int64(parameters.sample_rate)
        }
        var rate = stream.pointee.avg_frame_rate
        if rate.num <= 0 || rate.den <= 0 { rate = stream.pointee.r_frame_rate }
        guard rate.num > 0, rate.den > 0 else { return 0 }
        return Int64(rate.den) * 1_000_000 / Int64(rate.num)
    }

    /// Detects inputs that libav reads without complaint although they were cut short: media ending well before
    /// the duration the container declares (Matroska, MP4), or an MPEG-TS file ending inside a transport packet or
    /// inside its last frame. Call after reading the input to its end, with where its streams' tails start.
    func checkComplete(referenceEndUs: Int64, reference: UnsafeMutablePointer<AVStream>, tails: StreamTails) throws(SegmenterError) {
        var info = stat()
        let formatName = String(cString: context.pointee.iformat.pointee.name)
        if formatName == "mpegts" {
            if stat(path, &info) == 0, let packetSize = transportPacketSize() {
                if info.st_size % packetSize != 0 {
                    throw .truncated(path: path, reason: "MPEG-TS file of \(info.st_size) bytes ends inside a \(packetSize)-byte transport packet")
                }
                let tailLength = min(TransportStreamTail.window / packetSize * packetSize, info.st_size)
                if let short = TransportStreamTail(bytes: try readTail(tailLength), packetSize: packetSize).packets.first {
                    throw .truncated(path: path, reason: "the file ends inside a PES packet of PID \(short.pid): \(short.received) of its \(short.declared) bytes")
                }
            }
            var streams: [(stream: UnsafeMutablePointer<AVStream>, tailStart: Int64)] = []
            if let video, let start = tails.videoStart { streams.append((video, start)) }
            if let audio, let start = tails.audioStart { streams.append((audio, start)) }
            if let failure = try FinalFrameCheck(context: context, streams: streams).finalFrameFailure() {
                throw .truncated(path: path, reason: "the last frame is cut short (\(failure))")
            }
        }
        var declaredUs: Int64 = 0
        if reference.pointee.duration != shim_AV_NOPTS_VALUE() && reference.pointee.duration > 0 {
            declaredUs = av_rescale_q(reference.pointee.duration, reference.pointee.time_base, LibAV.microseconds)
        } else if context.pointee.duration > 0 && context.pointee.duration_estimation_method != AVFMT_DURATION_FROM_BITRATE {
            declaredUs = context.pointee.duration
        }
        let tolerance = max(1_000_000, declaredUs / 50)
        if declaredUs > 0 && referenceEndUs + tolerance < declaredUs {
            throw .truncated(path: path, reason: "media ends after \(Double(referenceEndUs / 1000) / 1000) s but the container declares \(Double(declaredUs / 1000) / 1000) s")
        }
    }

    /// The last `length` bytes of the input.
    private func readTail(_ length: Int) throws(SegmenterError) -> [UInt8] {
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            let size = try handle.seekToEnd()
            try handle.seek(toOffset: size - UInt64(length))
            return [UInt8](try handle.read(upToCount: Int(length)) ?? Data())
        } catch {
            throw .readFailed(path: path, reason: error.localizedDescription)
        }
    }

    /// 188 (TS), 192 (M2TS, 4-byte prefix) or 204 (TS with Reed-Solomon), from the sync bytes at the start.
    private func transportPacketSize() -> Int? {
        guard let handle = FileHandle(forReadingAtPath: path), let head = try? handle.read(upToCount: 1024) else { return nil }
        try? handle.close()
        let bytes = [UInt8](head)
        func synced(_ size: Int, offset: Int) -> Bool {
            (0..<3).allSatisfy { offset + $0 * size < bytes.count && bytes[offset + $0 * size] == 0x47 }
        }
        if synced(188, offset: 0) { return 188 }
        if synced(192, offset: 4) { return 192 }
        if synced(204, offset: 0) { return 204 }
        return nil
    }

    private static func checkReadable(_ path: String) throws(SegmenterError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw errno == ENOENT ? .inputMissing(path: path) : .inputUnreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .inputNotRegularFile(path: path) }
        guard info.st_size > 0 else { throw .inputEmpty(path: path) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .inputUnreadable(path: path, reason: String(cString: strerror(errno))) }
        close(fd)
    }

    private static func extradata(_ parameters: AVCodecParameters) -> [UInt8] {
        guard let data = parameters.extradata, parameters.extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(parameters.extradata_size)))
    }

    private static func videoCodec(_ stream: UnsafeMutablePointer<AVStream>, path: String) throws(SegmenterError) -> String {
        let parameters = stream.pointee.codecpar.pointee
        switch parameters.codec_id {
        case AV_CODEC_ID_H264:
            return CodecString.avc(extradata: extradata(parameters), profile: parameters.profile, level: parameters.level)
        case AV_CODEC_ID_HEVC:
            guard let codec = CodecString.hevc(extradata: extradata(parameters)) else {
                throw .unsupportedCodec(path: path, detail: "H.265 stream has no parameter sets to build its CODECS string from")
            }
            return codec
        default:
            let name = String(cString: avcodec_get_name(parameters.codec_id))
            throw .unsupportedCodec(path: path, detail: "video codec \(name) cannot be carried in HLS; remux needs H.264 or H.265 (re-encode first)")
        }
    }

    private static func audioCodec(_ stream: UnsafeMutablePointer<AVStream>, path: String) throws(SegmenterError) -> String {
        let parameters = stream.pointee.codecpar.pointee
        switch parameters.codec_id {
        case AV_CODEC_ID_AAC: return CodecString.aac(extradata: extradata(parameters), profile: parameters.profile)
        case AV_CODEC_ID_MP3: return "mp4a.40.34"
        case AV_CODEC_ID_AC3: return "ac-3"
        case AV_CODEC_ID_EAC3: return "ec-3"
        default:
            let name = String(cString: avcodec_get_name(parameters.codec_id))
            throw .unsupportedCodec(path: path, detail: "audio codec \(name) cannot be carried in HLS; remux needs AAC, MP3, AC-3 or E-AC-3 (re-encode first)")
        }
    }
}
