import Foundation

/// A seeded request trace over `objects` objects whose popularity follows Zipf(α): object k (0-based rank) is
/// requested with probability ∝ 1/(k+1)^α. Deterministic for a seed, so a result can be replayed.
public struct ZipfTrace: Sequence, IteratorProtocol {
    private let cumulative: [Double]
    private var generator: SplitMix64

    public init(objects: Int, alpha: Double, seed: UInt64) {
        precondition(objects > 0)
        var running = 0.0
        var cumulative: [Double] = []
        cumulative.reserveCapacity(objects)
        for rank in 1...objects {
            running += 1 / pow(Double(rank), alpha)
            cumulative.append(running)
        }
        self.cumulative = cumulative.map { $0 / running }
        generator = SplitMix64(seed: seed)
    }

    /// The next object's rank.
    public mutating func next() -> Int? {
        let u = Double(generator.next() >> 11) / Double(1 << 53)
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < u { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// SplitMix64: a tiny seeded generator for reproducible simulations.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
