/// Splits the start of a fragmented-MP4 byte stream into the initialization section (`ftyp`, `moov`) and the
/// media that follows, by reading top-level ISO-BMFF box headers as the bytes stream past.
///
/// libav's mp4 muxer with `delay_moov` writes `moov` together with the first fragment, so the boundary is only
/// known from the boxes themselves. Once the first non-init box starts, everything else is media.
public struct BoxRouter: Sendable {
    /// Where a run of bytes belongs.
    public enum Destination: Equatable, Sendable {
        case initialization
        case media
    }

    private var header: [UInt8] = []
    private var remaining: UInt64 = 0
    private var destination = Destination.initialization
    /// True once the first media box has started: every later byte is media.
    public private(set) var passthrough = false

    public init() {}

    /// Routes `bytes`, returning runs in order. Bytes of a box header that straddles two calls are returned with
    /// the call that completes the header.
    public mutating func route(_ bytes: UnsafeRawBufferPointer) -> [(bytes: [UInt8], destination: Destination)] {
        var runs: [(bytes: [UInt8], destination: Destination)] = []
        var index = 0
        while index < bytes.count {
            if passthrough {
                runs.append((Array(bytes[index...]), .media))
                break
            }
            if remaining > 0 {
                let take = Int(min(remaining, UInt64(bytes.count - index)))
                runs.append((Array(bytes[index..<index + take]), destination))
                remaining -= UInt64(take)
                index += take
                continue
            }
            header.append(bytes[index])
            index += 1
            guard header.count >= 8 else { continue }
            let size32 = header[0..<4].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if size32 == 1 && header.count < 16 { continue }
            let type = String(decoding: header[4..<8], as: UTF8.self)
            let size = size32 == 1 ? header[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } : size32
            destination = (type == "ftyp" || type == "moov") ? .initialization : .media
            if destination == .media || size32 == 0 || size < UInt64(header.count) {
                passthrough = true
                runs.append((header, .media))
            } else {
                runs.append((header, destination))
                remaining = size - UInt64(header.count)
            }
            header = []
        }
        return runs
    }
}
