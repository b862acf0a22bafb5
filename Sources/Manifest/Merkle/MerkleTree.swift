/// An append-only RFC 9162 Merkle tree that keeps every complete subtree, so roots of any earlier size,
/// inclusion proofs and consistency proofs cost O(log² n) hashes instead of O(n).
public struct MerkleTree: Sendable {
    /// `levels[h][i]` is the hash of the complete subtree of 2^h leaves that starts at leaf i·2^h.
    private var levels: [[MerkleHash]] = [[]]

    /// The number of leaves.
    public var size: Int { levels[0].count }

    /// An empty tree.
    public init() {}

    /// A tree over already leaf-hashed entries.
    public init(leafHashes: [MerkleHash]) {
        levels[0].reserveCapacity(leafHashes.count)
        for leaf in leafHashes { append(leafHash: leaf) }
    }

    /// Appends one leaf hash, completing any subtrees it closes.
    public mutating func append(leafHash: MerkleHash) {
        levels[0].append(leafHash)
        var height = 0
        while levels[height].count % 2 == 0 {
            let count = levels[height].count
            let parent = RFC9162.nodeHash(levels[height][count - 2], levels[height][count - 1])
            if levels.count == height + 1 { levels.append([]) }
            levels[height + 1].append(parent)
            height += 1
        }
    }

    /// The leaf hash at `index`.
    public func leafHash(at index: Int) -> MerkleHash { levels[0][index] }

    /// The index of the first leaf equal to `leafHash` (a linear scan).
    public func firstIndex(ofLeafHash leafHash: MerkleHash) -> Int? { levels[0].firstIndex(of: leafHash) }

    /// The root of the first `treeSize` leaves (defaults to the whole tree).
    public func root(size treeSize: Int? = nil) -> MerkleHash {
        let n = treeSize ?? size
        precondition(n >= 0 && n <= size, "tree size out of range")
        return n == 0 ? RFC9162.emptyRoot : subtree(start: 0, count: n)
    }

    /// MTH(D[start : start+count]).
    private func subtree(start: Int, count: Int) -> MerkleHash {
        if count & (count - 1) == 0 && start % count == 0 {
            let height = count.trailingZeroBitCount
            return levels[height][start >> height]
        }
        let k = RFC9162.splitPoint(count)
        return RFC9162.nodeHash(subtree(start: start, count: k), subtree(start: start + k, count: count - k))
    }

    /// The audit path PATH(index, D[treeSize]) of RFC 9162 §2.1.3.1, leaf to root.
    public func inclusionProof(index: Int, size treeSize: Int) throws(MerkleProofError) -> [MerkleHash] {
        guard treeSize <= size else { throw .sizeBeyondTree(treeSize, size) }
        guard index >= 0 && index < treeSize else { throw .indexOutOfRange(index, treeSize) }
        var proof: [MerkleHash] = []
        path(index: index, start: 0, count: treeSize, into: &proof)
        return proof
    }

    private func path(index: Int, start: Int, count: Int, into proof: inout [MerkleHash]) {
        guard count > 1 else { return }
        let k = RFC9162.splitPoint(count)
        if index < k {
            path(index: index, start: start, count: k, into: &proof)
            proof.append(subtree(start: start + k, count: count - k))
        } else {
            path(index: index - k, start: start + k, count: count - k, into: &proof)
            proof.append(subtree(start: start, count: k))
        }
    }

    /// The consistency proof PROOF(oldSize, D[newSize]) of RFC 9162 §2.1.4.1.
    public func consistencyProof(from oldSize: Int, to newSize: Int) throws(MerkleProofError) -> [MerkleHash] {
        guard newSize <= size else { throw .sizeBeyondTree(newSize, size) }
        guard oldSize >= 0 && oldSize <= newSize else { throw .sizesOutOfOrder(oldSize, newSize) }
        guard oldSize > 0 && oldSize < newSize else { return [] }
        var proof: [MerkleHash] = []
        subproof(m: oldSize, start: 0, count: newSize, complete: true, into: &proof)
        return proof
    }

    private func subproof(m: Int, start: Int, count: Int, complete: Bool, into proof: inout [MerkleHash]) {
        if m == count {
            if !complete { proof.append(subtree(start: start, count: count)) }
            return
        }
        let k = RFC9162.splitPoint(count)
        if m <= k {
            subproof(m: m, start: start, count: k, complete: complete, into: &proof)
            proof.append(subtree(start: start + k, count: count - k))
        } else {
            subproof(m: m - k, start: start + k, count: count - k, complete: false, into: &proof)
            proof.append(subtree(start: start, count: k))
        }
    }
}
