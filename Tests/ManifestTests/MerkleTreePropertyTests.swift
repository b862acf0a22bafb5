import Testing
@testable import Manifest

@Suite struct MerkleTreePropertyTests {
    static let leaves = (0..<257).map { RFC9162.leafHash(Array("leaf \($0)".utf8)) }
    static let tree = MerkleTree(leafHashes: leaves)

    /// Every inclusion proof for every leaf of every tree size 1...257 verifies, and fails for a neighbour's leaf.
    @Test func inclusionRoundTripsForAllSizes() throws {
        for size in 1...257 {
            let root = Self.tree.root(size: size)
            #expect(root == RFC9162.root(of: Array(Self.leaves.prefix(size))), "size \(size)")
            for index in 0..<size {
                let proof = try Self.tree.inclusionProof(index: index, size: size)
                #expect(proof.count == MerkleProof.inclusionLength(index, size))
                try MerkleProof.verifyInclusion(index: index, treeSize: size, leafHash: Self.leaves[index], proof: proof, root: root)
                if size > 1 {
                    let other = Self.leaves[(index + 1) % size]
                    #expect(throws: MerkleProofError.self) {
                        try MerkleProof.verifyInclusion(index: index, treeSize: size, leafHash: other, proof: proof, root: root)
                    }
                }
            }
        }
    }

    /// Consistency proofs between every pair of sizes up to 257 verify; a wrong old root never does.
    @Test func consistencyRoundTripsForAllPairs() throws {
        let roots = (0...257).map { Self.tree.root(size: $0) }
        for new in 1...257 {
            for old in 0...new {
                let proof = try Self.tree.consistencyProof(from: old, to: new)
                try MerkleProof.verifyConsistency(oldSize: old, newSize: new, oldRoot: roots[old], newRoot: roots[new], proof: proof)
                if old > 0 && old < new {
                    #expect(throws: MerkleProofError.self) {
                        try MerkleProof.verifyConsistency(oldSize: old, newSize: new, oldRoot: roots[old - 1], newRoot: roots[new], proof: proof)
                    }
                }
            }
        }
    }

    @Test func proofRequestsOutsideTheTreeAreErrors() {
        #expect(throws: MerkleProofError.indexOutOfRange(5, 5)) { try Self.tree.inclusionProof(index: 5, size: 5) }
        #expect(throws: MerkleProofError.sizeBeyondTree(300, 257)) { try Self.tree.inclusionProof(index: 0, size: 300) }
        #expect(throws: MerkleProofError.sizesOutOfOrder(9, 8)) { try Self.tree.consistencyProof(from: 9, to: 8) }
    }
}
