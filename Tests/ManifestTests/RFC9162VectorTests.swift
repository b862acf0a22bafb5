import Testing
@testable import Manifest

/// Published RFC 6962 / RFC 9162 test vectors (transparency-dev/merkle testonly and proof/verify_test).
enum Vectors {
    static let leaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ]
    /// Roots by tree size 0...8.
    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ].map { MerkleHash(hex: $0)! }
    static let leafHashes = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ].map { MerkleHash(hex: $0)! }
    /// (leaf index, tree size, proof)
    static let inclusion: [(Int, Int, [String])] = [
        (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    ]
    /// (old size, new size, proof)
    static let consistency: [(Int, Int, [String])] = [
        (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
        (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    ]
    static func tree(size: Int) -> MerkleTree {
        MerkleTree(leafHashes: leaves.prefix(size).map { RFC9162.leafHash($0) })
    }
}

@Suite struct RFC9162VectorTests {
    @Test func leafHashesMatchVectors() {
        #expect(Vectors.leaves.map { RFC9162.leafHash($0) } == Vectors.leafHashes)
    }

    @Test(arguments: 0...8)
    func rootsMatchVectors(size: Int) {
        #expect(Vectors.tree(size: size).root() == Vectors.roots[size])
        #expect(RFC9162.root(of: Array(Vectors.leafHashes.prefix(size))) == Vectors.roots[size])
        #expect(Vectors.tree(size: 8).root(size: size) == Vectors.roots[size])
    }

    @Test func inclusionProofsMatchVectors() throws {
        for (index, size, expected) in Vectors.inclusion {
            let proof = try Vectors.tree(size: 8).inclusionProof(index: index, size: size)
            #expect(proof.map(\.hex) == expected, "index \(index) size \(size)")
            try MerkleProof.verifyInclusion(index: index, treeSize: size, leafHash: Vectors.leafHashes[index],
                                            proof: proof, root: Vectors.roots[size])
        }
    }

    @Test func consistencyProofsMatchVectors() throws {
        for (old, new, expected) in Vectors.consistency {
            let proof = try Vectors.tree(size: 8).consistencyProof(from: old, to: new)
            #expect(proof.map(\.hex) == expected, "\(old)→\(new)")
            try MerkleProof.verifyConsistency(oldSize: old, newSize: new, oldRoot: Vectors.roots[old],
                                              newRoot: Vectors.roots[new], proof: proof)
        }
    }

    /// The corruption probes of transparency-dev/merkle: every one must be rejected.
    @Test func corruptedInclusionProofsAreRejected() throws {
        let some = MerkleHash(hex: "abacaba000000000000000000000000000000000000000000060061e00123456")!
        for (index, size, hexProof) in Vectors.inclusion {
            let proof = hexProof.map { MerkleHash(hex: $0)! }
            let root = Vectors.roots[size]
            let leaf = Vectors.leafHashes[index]
            var probes: [(Int, Int, MerkleHash, [MerkleHash], MerkleHash)] = [
                (index - 1, size, leaf, proof, root), (index + 1, size, leaf, proof, root),
                (index ^ 2, size, leaf, proof, root), (index, size * 2, leaf, proof, root),
                (index, size / 2, leaf, proof, root), (index, size, some, proof, root),
                (index, size, leaf, proof, RFC9162.emptyRoot), (index, size, leaf, proof, some),
                (index, size, leaf, proof + [root], root), (index, size, leaf, [root] + proof, root),
                (index, size, leaf, Array(proof.dropLast()), root),
            ]
            for i in proof.indices {
                var flipped = proof
                flipped[i].storage[0] ^= 8
                probes.append((index, size, leaf, flipped, root))
            }
            for (n, probe) in probes.enumerated() where !(probe.0 == index && probe.1 == size && probe.3 == proof && probe.2 == leaf && probe.4 == root) {
                #expect(throws: MerkleProofError.self, "probe \(n) for (\(index), \(size))") {
                    try MerkleProof.verifyInclusion(index: probe.0, treeSize: probe.1, leafHash: probe.2, proof: probe.3, root: probe.4)
                }
            }
        }
    }

    @Test func corruptedConsistencyProofsAreRejected() throws {
        for (old, new, hexProof) in Vectors.consistency {
            let proof = hexProof.map { MerkleHash(hex: $0)! }
            let r1 = Vectors.roots[old], r2 = Vectors.roots[new]
            var probes: [(Int, Int, MerkleHash, MerkleHash, [MerkleHash])] = [
                (old - 1, new, r1, r2, proof), (old + 1, new, r1, r2, proof), (old ^ 2, new, r1, r2, proof),
                (old, new * 2, r1, r2, proof), (old, new / 2, r1, r2, proof), (old, new, r2, r2, proof),
                (old, new, r1, r1, proof), (old, new, r2, r1, proof), (old, new, r1, r2, []),
                (old, new, r1, r2, proof + [r1]), (old, new, r1, r2, proof + [r2]),
                (old, new, r1, r2, [r1] + proof), (old, new, r1, r2, [r2] + proof), (old, new, r1, r2, [proof[0]] + proof),
                (old, new, r1, r2, Array(proof.dropLast())),
            ]
            for i in proof.indices {
                var flipped = proof
                flipped[i].storage[0] ^= 16
                probes.append((old, new, r1, r2, flipped))
            }
            for (n, probe) in probes.enumerated() {
                #expect(throws: MerkleProofError.self, "probe \(n) for \(old)→\(new)") {
                    try MerkleProof.verifyConsistency(oldSize: probe.0, newSize: probe.1, oldRoot: probe.2, newRoot: probe.3, proof: probe.4)
                }
            }
        }
    }

    @Test func trivialConsistencyCases() throws {
        let a = Vectors.roots[1], b = Vectors.roots[2]
        try MerkleProof.verifyConsistency(oldSize: 0, newSize: 0, oldRoot: a, newRoot: a, proof: [])
        try MerkleProof.verifyConsistency(oldSize: 0, newSize: 1, oldRoot: a, newRoot: b, proof: [])
        try MerkleProof.verifyConsistency(oldSize: 1, newSize: 1, oldRoot: b, newRoot: b, proof: [])
        #expect(throws: MerkleProofError.self) { try MerkleProof.verifyConsistency(oldSize: 1, newSize: 1, oldRoot: a, newRoot: b, proof: []) }
        #expect(throws: MerkleProofError.self) { try MerkleProof.verifyConsistency(oldSize: 2, newSize: 1, oldRoot: a, newRoot: b, proof: []) }
        #expect(throws: MerkleProofError.self) { try MerkleProof.verifyConsistency(oldSize: 1, newSize: 2, oldRoot: a, newRoot: b, proof: []) }
        #expect(throws: MerkleProofError.self) { try MerkleProof.verifyConsistency(oldSize: 0, newSize: 1, oldRoot: a, newRoot: a, proof: [a]) }
    }
}
