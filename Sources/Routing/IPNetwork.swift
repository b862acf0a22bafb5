#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, as a dual-stack socket reports IPv4
/// clients) are IPv4.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt128)

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (no zone index, no brackets); nil otherwise.
    public init?(_ text: some StringProtocol) {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        let string = String(text)
        var v4 = in_addr()
        if inet_pton(AF_INET, string, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, string, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        let value = bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
        if value >> 32 == 0xffff {
            self = .v4(UInt32(truncatingIfNeeded: value))
        } else {
            self = .v6(value)
        }
    }

    /// 127.0.0.0/8 or ::1.
    public var isLoopback: Bool {
        switch self {
        case .v4(let value): value >> 24 == 127
        case .v6(let value): value == 1
        }
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
        case .v6(let value):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { bytes in
                for index in 0..<16 { bytes[index] = UInt8(truncatingIfNeeded: value >> (8 * (15 - index))) }
            }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

/// A CIDR block: `203.0.113.0/24`, `2001:db8::/32`.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network address with every host bit zero.
    public let address: IPAddress
    public let prefixLength: Int

    /// Why a CIDR block was refused.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notCIDR(String)
        case hostBitsSet(String)

        public var description: String {
            switch self {
            case .notCIDR(let text): "\"\(text)\" is not an IPv4 or IPv6 CIDR block (like 203.0.113.0/24 or 2001:db8::/32)"
            case .hostBitsSet(let text): "\"\(text)\" has bits set after its prefix length"
            }
        }
    }

    /// Parses `address/length`; a bare address is a /32 (IPv4) or /128 (IPv6). Host bits must be zero.
    public init(_ text: String) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { throw .notCIDR(text) }
        let width = address.width
        var length = width
        if parts.count == 2 {
            guard parts[1].utf8.count <= 3, parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let parsed = Int(parts[1]), parsed <= width else {
                throw .notCIDR(text)
            }
            length = parsed
        }
        guard address.masked(to: length) == address else { throw .hostBitsSet(text) }
        self.address = address
        prefixLength = length
    }

    /// Whether `candidate` is inside this block.
    public func contains(_ candidate: IPAddress) -> Bool {
        candidate.width == address.width && candidate.masked(to: prefixLength) == address
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

extension IPAddress {
    /// 32 or 128.
    var width: Int {
        if case .v4 = self { 32 } else { 128 }
    }

    /// The address with every bit after the first `length` cleared.
    func masked(to length: Int) -> IPAddress {
        switch self {
        case .v4(let value): .v4(length == 0 ? 0 : value & ~UInt32(0) << (32 - length))
        case .v6(let value): .v6(length == 0 ? 0 : value & ~UInt128(0) << (128 - length))
        }
    }
}
