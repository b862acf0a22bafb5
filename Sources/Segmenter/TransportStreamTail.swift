/// The PES packets still open at the end of an MPEG-TS file, read from its last bytes.
///
/// A PES packet whose header declares a length (audio, always: ISO/IEC 13818-1 allows an unbounded length only for
/// video) must be followed by that many bytes. A file cut on a transport-packet boundary inside one leaves it short;
/// libav flags the packet as corrupt, but its audio parsers drop the partial frame at the end and the flag with it.
struct TransportStreamTail {
    /// An open PES packet that ends before its declared length.
    struct ShortPacket: Equatable {
        let pid: Int
        let declared: Int
        let received: Int
    }

    /// How many bytes from the end of a file to read: a bounded PES packet is at most 6 + 65,535 bytes, spread over
    /// fewer than 400 transport packets, whatever else is interleaved with it in the last megabyte.
    static let window = 1 << 20

    let packets: [ShortPacket]

    /// - Parameters:
    ///   - bytes: the end of the file, starting on a transport packet boundary.
    ///   - packetSize: 188, 192 (4-byte prefix before the sync byte) or 204 (16 bytes of parity after the packet).
    init(bytes: [UInt8], packetSize: Int) {
        let syncOffset = packetSize == 192 ? 4 : 0
        var open: [Int: (declared: Int, received: Int)] = [:]
        var start = 0
        while start + packetSize <= bytes.count {
            defer { start += packetSize }
            let packet = start + syncOffset
            guard bytes[packet] == 0x47 else { continue }
            let unitStart = bytes[packet + 1] & 0x40 != 0
            let pid = Int(bytes[packet + 1] & 0x1f) << 8 | Int(bytes[packet + 2])
            let control = bytes[packet + 3] >> 4 & 0x3
            guard control & 1 != 0 else { continue }
            var payload = packet + 4
            if control & 2 != 0 { payload += 1 + Int(bytes[packet + 4]) }
            let end = packet + 188
            guard payload < end else { continue }
            if unitStart {
                let isPES = payload + 6 <= end && bytes[payload] == 0 && bytes[payload + 1] == 0 && bytes[payload + 2] == 1
                let declared = isPES ? Int(bytes[payload + 4]) << 8 | Int(bytes[payload + 5]) : 0
                open[pid] = declared > 0 ? (declared + 6, end - payload) : nil
            } else if let current = open[pid] {
                open[pid] = (current.declared, current.received + end - payload)
            }
        }
        packets = open.compactMap { pid, state in
            state.received < state.declared ? ShortPacket(pid: pid, declared: state.declared, received: state.received) : nil
        }.sorted { $0.pid < $1.pid }
    }
}
