import Manifest

/// RFC 6381 `CODECS` strings built from stream parameters (ISO/IEC 14496-15 for AVC and HEVC).
public enum CodecString {
    /// `avc1.PPCCLL` from avcC (`extradata[0] == 1`) or from the first SPS of Annex-B extradata.
    public static func avc(extradata: [UInt8], profile: Int32, level: Int32) -> String {
        var fields: (UInt8, UInt8, UInt8)?
        if extradata.count >= 4 && extradata[0] == 1 {
            fields = (extradata[1], extradata[2], extradata[3])
        } else if let sps = annexBNALUnits(extradata).first(where: { !$0.isEmpty && $0[0] & 0x1f == 7 }), sps.count >= 4 {
            fields = (sps[1], sps[2], sps[3])
        }
        let (p, c, l) = fields ?? (UInt8(clamping: max(profile, 0)), 0, UInt8(clamping: max(level, 0)))
        return "avc1." + Hex.encode([p, c, l])
    }

    /// `hvc1.<space><profile>.<compat>.<tier><level>[.<constraints>]` from hvcC or from an Annex-B SPS.
    public static func hevc(extradata: [UInt8]) -> String? {
        var ptl: [UInt8]?
        if extradata.count >= 23 && extradata[0] == 1 {
            ptl = Array(extradata[1...12])
        } else if let sps = annexBNALUnits(extradata).first(where: { $0.count >= 2 && ($0[0] >> 1) & 0x3f == 33 }) {
            let rbsp = removeEmulationPrevention(Array(sps.dropFirst(2)))
            if rbsp.count >= 13 { ptl = Array(rbsp[1...12]) }
        }
        guard let ptl else { return nil }
        let space = Int(ptl[0] >> 6)
        let tier = (ptl[0] >> 5) & 1
        let profile = Int(ptl[0] & 0x1f)
        let compat = ptl[1...4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        var reversed: UInt32 = 0
        for bit in 0..<32 where compat & (1 << bit) != 0 { reversed |= 1 << (31 - bit) }
        var constraints = Array(ptl[5...10])
        while let last = constraints.last, last == 0 { constraints.removeLast() }
        let spacePrefix = ["", "A", "B", "C"][space]
        var parts = ["hvc1", "\(spacePrefix)\(profile)", String(reversed, radix: 16, uppercase: true),
                     "\(tier == 1 ? "H" : "L")\(ptl[11])"]
        parts += constraints.map { String($0, radix: 16, uppercase: true) }
        return parts.joined(separator: ".")
    }

    /// `mp4a.40.<audio object type>` from an AudioSpecificConfig, or from libav's AAC profile when absent.
    public static func aac(extradata: [UInt8], profile: Int32) -> String {
        if extradata.count >= 2 {
            var objectType = Int(extradata[0] >> 3)
            if objectType == 31 { objectType = 32 + Int((extradata[0] & 0x07) << 3 | extradata[1] >> 5) }
            if objectType > 0 { return "mp4a.40.\(objectType)" }
        }
        // libav's FF_PROFILE_AAC_* values are the audio object type minus one.
        return "mp4a.40.\(profile >= 0 ? Int(profile) + 1 : 2)"
    }

    /// The NAL unit payloads of an Annex-B byte stream (start codes removed).
    static func annexBNALUnits(_ bytes: [UInt8]) -> [[UInt8]] {
        var starts: [Int] = []
        var index = 0
        while index + 3 <= bytes.count {
            if bytes[index] == 0 && bytes[index + 1] == 0 && bytes[index + 2] == 1 {
                starts.append(index + 3)
                index += 3
            } else {
                index += 1
            }
        }
        var units: [[UInt8]] = []
        for (n, start) in starts.enumerated() {
            var end = n + 1 < starts.count ? starts[n + 1] - 3 : bytes.count
            while end > start && bytes[end - 1] == 0 { end -= 1 }
            units.append(Array(bytes[start..<end]))
        }
        return units
    }

    /// Drops the 0x03 of every 0x000003 sequence.
    static func removeEmulationPrevention(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var zeros = 0
        for byte in bytes {
            if zeros >= 2 && byte == 3 {
                zeros = 0
                continue
            }
            zeros = byte == 0 ? zeros + 1 : 0
            out.append(byte)
        }
        return out
    }
}
