/// Verification of RFC 9162 inclusion and consistency proofs, following §2.1.3.2 and §2.1.4.2 step by step.
public enum MerkleProof {
    /// The root that `proof` leads to from `leafHash` at `index` in a tree of `treeSize` leaves.
    public static func rootFromInclusion(
        index: Int, treeSize: Int, leafHash: MerkleHash, proof: [MerkleHash]
    ) throws(MerkleProofError) -> MerkleHash {
        guard index >= 0 && index < treeSize else { throw .indexOutOfRange(index, treeSize) }
        var fn = UInt64(index)
        var sn = UInt64(treeSize - 1)
        var r = leafHash
        for p in proof {
            guard sn != 0 else { throw .wrongProofLength(expected: inclusionLength(index, treeSize), got: proof.count) }
            if fn & 1 == 1 || fn == sn {
                r = RFC9162.nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = RFC9162.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofLength(expected: inclusionLength(index, treeSize), got: proof.count) }
        return r
    }

    /// Checks that `leafHash` sits at `index` of the tree of `treeSize` leaves whose root is `root`.
    public static func verifyInclusion(
        index: Int, treeSize: Int, leafHash: MerkleHash, proof: [MerkleHash], root: MerkleHash
    ) throws(MerkleProofError) {
        guard try rootFromInclusion(index: index, treeSize: treeSize, leafHash: leafHash, proof: proof) == root
        else { throw .rootMismatch }
    }

    /// Checks that the tree of `newSize` leaves with `newRoot` extends the tree of `oldSize` leaves with `oldRoot`.
    public static func verifyConsistency(
        oldSize: Int, newSize: Int, oldRoot: MerkleHash, newRoot: MerkleHash, proof: [MerkleHash]
    ) throws(MerkleProofError) {
        guard oldSize >= 0 && oldSize <= newSize else { throw .sizesOutOfOrder(oldSize, newSize) }
        if oldSize == newSize {
            guard proof.isEmpty else { throw .nonEmptyProofForTrivialCase }
            guard oldRoot == newRoot else { throw .rootMismatch }
            return
        }
        if oldSize == 0 {
            guard proof.isEmpty else { throw .nonEmptyProofForTrivialCase }
            return
        }
        guard !proof.isEmpty else { throw .wrongProofLength(expected: 1, got: 0) }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = UInt64(oldSize - 1)
        var sn = UInt64(newSize - 1)
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { throw .wrongProofLength(expected: path.count - 1, got: proof.count) }
            if fn & 1 == 1 || fn == sn {
                fr = RFC9162.nodeHash(c, fr)
                sr = RFC9162.nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = RFC9162.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofLength(expected: proof.count + Int(sn.nonzeroBitCount), got: proof.count) }
        guard fr == oldRoot && sr == newRoot else { throw .rootMismatch }
    }

    /// The number of hashes in an inclusion proof for (index, size), for error messages.
    static func inclusionLength(_ index: Int, _ size: Int) -> Int {
        var length = 0
        var count = size
        var i = index
        while count > 1 {
            let k = RFC9162.splitPoint(count)
            if i < k { count = k } else { i -= k; count -= k }
            length += 1
        }
        return length
    }
}
