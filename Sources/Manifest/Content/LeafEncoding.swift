/// The canonical byte encodings of manifest leaves. Leaf hash = SHA-256(0x00 || encoding) (RFC 9162).
///
/// File leaf:
/// ```
/// "edgenode/file/v1" 0x00 | u16be path length | path (UTF-8) | u64be size | u32be chunk size | chunk root (32 bytes)
/// ```
/// Metadata leaf (always leaf 0):
/// ```
/// "edgenode/meta/v1" 0x00 | for each (key, value), keys in ascending byte order:
///     u16be key length | key (UTF-8) | u32be value length | value (UTF-8)
/// ```
public enum LeafEncoding {
    /// Domain tag of file leaves.
    public static let fileTag = Array("edgenode/file/v1".utf8) + [0]
    /// Domain tag of the metadata leaf.
    public static let metadataTag = Array("edgenode/meta/v1".utf8) + [0]

    /// The encoding of one file leaf.
    public static func file(path: String, size: Int64, chunkSize: Int, chunkRoot: MerkleHash) -> [UInt8] {
        let pathBytes = Array(path.utf8)
        var out = fileTag
        out.reserveCapacity(fileTag.count + 2 + pathBytes.count + 8 + 4 + 32)
        appendBigEndian(UInt64(pathBytes.count), bytes: 2, to: &out)
        out += pathBytes
        appendBigEndian(UInt64(size), bytes: 8, to: &out)
        appendBigEndian(UInt64(chunkSize), bytes: 4, to: &out)
        out += chunkRoot.bytes
        return out
    }

    /// The encoding of the metadata leaf.
    public static func metadata(_ pairs: [String: String]) -> [UInt8] {
        var out = metadataTag
        for key in pairs.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let keyBytes = Array(key.utf8)
            let valueBytes = Array(pairs[key]!.utf8)
            appendBigEndian(UInt64(keyBytes.count), bytes: 2, to: &out)
            out += keyBytes
            appendBigEndian(UInt64(valueBytes.count), bytes: 4, to: &out)
            out += valueBytes
        }
        return out
    }

    private static func appendBigEndian(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
