import protocol Foundation.ContiguousBytes
import Crypto

/// The RFC 9162 §2.1 (= RFC 6962 §2.1) hashing of a Merkle tree over SHA-256.
///
/// A leaf is `SHA-256(0x00 || data)`, an interior node is `SHA-256(0x01 || left || right)` and the
/// empty tree is `SHA-256("")`. The distinct prefixes stop a leaf from being passed off as a node.
public enum RFC9162 {
    /// The root of the tree with no leaves.
    public static let emptyRoot = MerkleHash(SHA256.hash(data: [UInt8]()))

    /// The leaf hash of `data`.
    public static func leafHash<Bytes: ContiguousBytes>(_ data: Bytes) -> MerkleHash {
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
        data.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return MerkleHash(hasher.finalize())
    }

    /// The hash of an interior node.
    public static func nodeHash(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash {
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(1)) { hasher.update(bufferPointer: $0) }
        left.update(&hasher)
        right.update(&hasher)
        return MerkleHash(hasher.finalize())
    }

    /// The largest power of two strictly less than `n` (n ≥ 2), the split point `k` of RFC 9162 §2.1.1.
    static func splitPoint(_ n: Int) -> Int {
        precondition(n >= 2)
        return 1 << (Int.bitWidth - 1 - (n - 1).leadingZeroBitCount)
    }

    /// The root of a tree over `leaves` (already leaf-hashed), computed directly.
    public static func root(of leaves: [MerkleHash]) -> MerkleHash {
        guard !leaves.isEmpty else { return emptyRoot }
        var level = leaves
        // Pairing left to right and carrying an odd node up unchanged yields the RFC 9162 tree shape.
        while level.count > 1 {
            var next: [MerkleHash] = []
            next.reserveCapacity((level.count + 1) / 2)
            var index = 0
            while index + 1 < level.count {
                next.append(nodeHash(level[index], level[index + 1]))
                index += 2
            }
            if index < level.count { next.append(level[index]) }
            level = next
        }
        return level[0]
    }
}
