import Testing
@testable import Segmenter

@Suite struct TransportStreamTailTests {
    /// Transport packets of one PES packet on `pid`: `declared` 0 means unbounded (video); `stuffing` pads the last.
    static func pes(pid: Int, payload: Int, declared: Int?, cutAfterPackets: Int? = nil) -> [UInt8] {
        let length = declared ?? payload + 3 + 5
        var data: [UInt8] = [0, 0, 1, 0xe0, UInt8(length >> 8 & 0xff), UInt8(length & 0xff), 0x80, 0x80, 5, 0x21, 0, 1, 0, 1]
        data += [UInt8](repeating: 0x55, count: payload)
        var packets: [UInt8] = []
        var offset = 0
        var counter: UInt8 = 0
        while offset < data.count {
            let chunk = min(184, data.count - offset)
            var header: [UInt8] = [0x47, UInt8(pid >> 8 & 0x1f) | (offset == 0 ? 0x40 : 0), UInt8(pid & 0xff)]
            if chunk == 184 {
                header.append(0x10 | counter)
            } else {
                // Adaptation field stuffing fills the rest of the last packet (ISO/IEC 13818-1 §2.4.3.5).
                let fieldLength = 184 - chunk - 1
                header.append(0x30 | counter)
                header.append(UInt8(fieldLength))
                if fieldLength > 0 { header += [0x00] + [UInt8](repeating: 0xff, count: fieldLength - 1) }
            }
            packets += header + data[offset..<offset + chunk]
            offset += chunk
            counter = (counter + 1) & 0xf
        }
        if let cutAfterPackets { return Array(packets.prefix(cutAfterPackets * 188)) }
        return packets
    }

    @Test func completePacketsAreNotShort() {
        let stream = Self.pes(pid: 0x101, payload: 2_000, declared: nil) + Self.pes(pid: 0x100, payload: 9_000, declared: 0)
            + Self.pes(pid: 0x101, payload: 184 * 3 - 14, declared: nil)
        #expect(stream.count % 188 == 0)
        #expect(TransportStreamTail(bytes: stream, packetSize: 188).packets.isEmpty)
    }

    @Test func aBoundedPacketCutShortIsFound() {
        let audio = Self.pes(pid: 0x101, payload: 2_000, declared: nil, cutAfterPackets: 5)
        let stream = Self.pes(pid: 0x100, payload: 9_000, declared: 0) + audio
        let tail = TransportStreamTail(bytes: stream, packetSize: 188)
        #expect(tail.packets == [.init(pid: 0x101, declared: 2_000 + 14, received: 5 * 184)])
    }

    /// An unbounded video PES packet cannot be judged from the container: decoding does that.
    @Test func anUnboundedPacketIsNeverShort() {
        let stream = Self.pes(pid: 0x100, payload: 9_000, declared: 0, cutAfterPackets: 3)
        #expect(TransportStreamTail(bytes: stream, packetSize: 188).packets.isEmpty)
    }

    /// The window may start in the middle of a PES packet: its continuation is ignored, not misread.
    @Test func aPacketStartedBeforeTheWindowIsIgnored() {
        let stream = Array(Self.pes(pid: 0x101, payload: 2_000, declared: nil).dropFirst(188 * 2))
        #expect(TransportStreamTail(bytes: stream, packetSize: 188).packets.isEmpty)
    }

    @Test func m2tsPrefixesAreSkipped() {
        let packets = Self.pes(pid: 0x101, payload: 2_000, declared: nil, cutAfterPackets: 4)
        var prefixed: [UInt8] = []
        for start in stride(from: 0, to: packets.count, by: 188) { prefixed += [0, 0, 0, 0] + packets[start..<start + 188] }
        #expect(TransportStreamTail(bytes: prefixed, packetSize: 192).packets.map(\.received) == [4 * 184])
    }

    /// Garbage (no sync bytes, absurd adaptation lengths) never traps and never reports a short packet.
    @Test func garbageIsHarmless() {
        var generator = XorShift(state: 0x9e37_79b9_7f4a_7c15)
        for _ in 0..<200 {
            var bytes = (0..<(188 * 8)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for start in stride(from: 0, to: bytes.count, by: 188) { bytes[start] = 0x47 }
            _ = TransportStreamTail(bytes: bytes, packetSize: 188)
            _ = TransportStreamTail(bytes: Array(bytes.prefix(100)), packetSize: 204)
        }
    }
}

@Suite struct AccessUnitScanTests {
    static func scan(_ bytes: [UInt8], _ codec: AccessUnitScan.Codec) -> Bool {
        bytes.withUnsafeBytes { AccessUnitScan.containsPicture($0, codec: codec) }
    }

    @Test func h264() {
        let delimiter: [UInt8] = [0, 0, 0, 1, 0x09, 0xf0]
        let parameterSets: [UInt8] = [0, 0, 0, 1, 0x67, 0x64, 0, 0x1e, 0, 0, 1, 0x68, 0xeb]
        let sei: [UInt8] = [0, 0, 1, 0x06, 0x05, 0x10]
        #expect(!Self.scan(delimiter + parameterSets + sei, .h264))
        #expect(Self.scan(delimiter + parameterSets + sei + [0, 0, 1, 0x65, 0x88, 0x84], .h264), "IDR slice")
        #expect(Self.scan(delimiter + [0, 0, 1, 0x41, 0x9a], .h264), "non-IDR slice")
        #expect(!Self.scan([0, 1, 0x65], .h264), "one zero byte is not a start code")
        #expect(!Self.scan([0, 0, 1], .h264), "a start code at the very end")
    }

    @Test func hevc() {
        let delimiter: [UInt8] = [0, 0, 0, 1, 0x46, 0x01, 0x10]
        let parameterSets: [UInt8] = [0, 0, 1, 0x40, 0x01, 0, 0, 1, 0x42, 0x01, 0, 0, 1, 0x44, 0x01]
        #expect(!Self.scan(delimiter + parameterSets, .hevc))
        #expect(Self.scan(delimiter + parameterSets + [0, 0, 1, 0x26, 0x01, 0xaf], .hevc), "IDR_W_RADL slice")
        #expect(Self.scan(delimiter + [0, 0, 1, 0x02, 0x01, 0xd0], .hevc), "TRAIL_R slice")
    }
}

/// A seeded generator, so the garbage is the same on every run.
private struct XorShift: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
