import Crypto

/// A 32-byte SHA-256 value held inline (no heap allocation), used for every node of every tree.
public struct MerkleHash: Hashable, Sendable, CustomStringConvertible {
    /// The raw bytes.
    public var storage: SIMD32<UInt8>

    /// The number of bytes in a hash.
    public static let byteCount = 32

    /// Wraps raw storage.
    public init(storage: SIMD32<UInt8>) { self.storage = storage }

    /// Reads exactly 32 bytes; returns nil for any other length.
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == Self.byteCount else { return nil }
        var value = SIMD32<UInt8>()
        for (index, byte) in bytes.enumerated() { value[index] = byte }
        storage = value
    }

    /// Parses 64 lowercase or uppercase hex digits.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// Converts a swift-crypto SHA-256 digest.
    public init(_ digest: SHA256.Digest) {
        storage = digest.withUnsafeBytes { $0.loadUnaligned(as: SIMD32<UInt8>.self) }
    }

    /// The bytes as an array.
    public var bytes: [UInt8] {
        withUnsafeBytes(of: storage) { Array($0) }
    }

    /// Lowercase hex.
    public var hex: String { Hex.encode(bytes) }

    /// Standard base64 with padding.
    public var base64: String { Base64.encode(bytes) }

    public var description: String { hex }

    /// Feeds the 32 bytes into a running hash.
    @inlinable
    public func update(_ hasher: inout SHA256) {
        withUnsafeBytes(of: storage) { hasher.update(bufferPointer: $0) }
    }
}
