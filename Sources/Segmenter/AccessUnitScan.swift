/// What an H.264 or H.265 access unit in Annex B byte-stream form (as MPEG-TS carries it) contains.
enum AccessUnitScan {
    /// The video codecs whose access units can be scanned.
    enum Codec {
        case h264
        case hevc
    }

    /// Whether `bytes` hold at least one coded-slice NAL unit: every complete access unit has one (its primary coded
    /// picture), so an access unit without one was cut off after its parameter sets or SEI.
    static func containsPicture(_ bytes: UnsafeRawBufferPointer, codec: Codec) -> Bool {
        var zeros = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == 0 {
                zeros += 1
                continue
            }
            defer { zeros = 0 }
            guard byte == 1, zeros >= 2, index < bytes.count else { continue }
            let header = bytes[index]
            switch codec {
            case .h264 where (1...5).contains(header & 0x1f): return true
            case .hevc where (header >> 1) & 0x3f < 32: return true
            default: continue
            }
        }
        return false
    }
}
