/// Highest-random-weight (rendezvous) hashing: each (key, node) pair gets a score and a key goes to the node with the
/// highest. Removing a node moves only the keys it held, spread over the rest; every node computes the same answer
/// (the hash is fixed, not Swift's per-process seeded `Hasher`).
public enum Rendezvous {
    /// The score of `node` for `key`: FNV-1a 64 over both (separated by a zero byte), then the SplitMix64 finaliser
    /// so that similar names do not get similar scores.
    public static func score(key: String, node: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        hash = (hash ^ 0) &* 0x0000_0100_0000_01b3
        for byte in node.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        return hash ^ (hash >> 31)
    }

    /// `nodes` ordered by their score for `key`, highest first (ties, which need a 64-bit collision, by name).
    public static func rank(key: String, nodes: [String]) -> [String] {
        nodes.map { ($0, score(key: key, node: $0)) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            .map(\.0)
    }
}
