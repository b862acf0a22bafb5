import Testing
@testable import Royalty

/// Exact splits: the parts always sum to the amount, follow the weights, and break ties by party id.
@Suite struct LargestRemainderTests {
    static func parts(_ amount: Int64, _ weights: [(String, UInt64)]) throws -> [Int64] {
        try LargestRemainder.allocate(amount, among: weights.map { (party: $0.0, weight: $0.1) }).get().map(\.amount)
    }

    @Test func theAnchorsExampleAndItsTieBreak() throws {
        // €0.05 split 70/30: exact 3.5 / 1.5, one unit left, tied remainders: the lower id takes it.
        #expect(try Self.parts(5, [("a", 7_000), ("b", 3_000)]) == [4, 1])
        #expect(try Self.parts(5, [("b", 7_000), ("a", 3_000)]) == [3, 2], "the tie goes to \"a\" whatever the order")
        #expect(try Self.parts(100, [("a", 1), ("b", 1), ("c", 1)]) == [34, 33, 33])
        #expect(try Self.parts(0, [("a", 1)]) == [0])
        #expect(try Self.parts(7, [("a", 0), ("b", 5)]) == [0, 7], "a zero weight gets nothing, not even a leftover unit")
    }

    @Test func refusals() {
        #expect(throws: LargestRemainder.Refusal.noWeight) { try Self.parts(1, [("a", 0)]) }
        #expect(throws: LargestRemainder.Refusal.noWeight) { try Self.parts(1, []) }
        #expect(throws: LargestRemainder.Refusal.duplicateParty) { try Self.parts(1, [("a", 1), ("a", 2)]) }
        #expect(throws: LargestRemainder.Refusal.negativeAmount) { try Self.parts(-1, [("a", 1)]) }
    }

    /// Seeded: amounts up to 10^15 and weights up to 2^63 (totals beyond 64 bits): the sum is exact, each part is
    /// within one unit (two with a total beyond 64 bits) of its exact share, and no arithmetic traps.
    @Test func partsSumExactlyAndFollowTheWeights() throws {
        var generator = SplitMix(seed: 14)
        for round in 0..<2_000 {
            let count = Int.random(in: 1...40, using: &generator)
            let big = round % 3 == 0
            let weights = (0..<count).map { index in
                ("p\(index)", big ? UInt64.random(in: 0...(UInt64.max / 2), using: &generator) : UInt64.random(in: 0...1_000_000, using: &generator))
            }
            guard weights.contains(where: { $0.1 > 0 }) else { continue }
            let amount = Int64.random(in: 0...1_000_000_000_000_000, using: &generator)
            let parts = try Self.parts(amount, weights)
            #expect(parts.reduce(0, +) == amount, "round \(round)")
            let total = weights.reduce(0.0) { $0 + Double($1.1) }
            for (part, weight) in zip(parts, weights) {
                let exact = Double(amount) * Double(weight.1) / total
                #expect(abs(Double(part) - exact) <= 2 + exact * 1e-12, "round \(round): \(part) vs \(exact)")
                if weight.1 == 0 { #expect(part == 0) }
            }
        }
    }
}

/// A small seeded generator (SplitMix64), so every run checks the same cases.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
