import Testing
@testable import EdgeCache

@Suite struct EvictionPolicyTests {
    /// Both policies against an independent model of what must hold after every request: the budget is never
    /// exceeded, a hit is only reported for a held key, evicted keys were held and are gone, the byte count is exact.
    @Test(arguments: [false, true])
    func invariantsHoldOnRandomTraces(s3fifo: Bool) {
        var generator = SplitMix64(seed: 11)
        for round in 0..<20 {
            let capacity = Int64.random(in: 10...5_000, using: &generator)
            if s3fifo {
                var policy = S3FIFOPolicy<Int>(capacityBytes: capacity)
                Self.check(&policy, capacity: capacity, generator: &generator, round: round)
            } else {
                var policy = LRUPolicy<Int>(capacityBytes: capacity)
                Self.check(&policy, capacity: capacity, generator: &generator, round: round)
            }
        }
    }

    /// A smaller budget evicts down to it (keys that were held, each once); a larger one evicts nothing and admits
    /// more afterwards.
    @Test(arguments: [false, true])
    func resizingHoldsTheNewBudget(s3fifo: Bool) {
        func run<P: EvictionPolicy>(_ policy: inout P) where P.Key == Int {
            for key in 0..<100 { _ = policy.request(key, size: 100) }
            #expect(policy.usedBytes == 10_000)
            let held = Set((0..<100).filter { policy.contains($0) })
            let evicted = policy.resize(capacityBytes: 2_500)
            #expect(policy.usedBytes <= 2_500 && policy.usedBytes == 10_000 - 100 * Int64(evicted.count))
            #expect(Set(evicted).count == evicted.count && Set(evicted).isSubset(of: held) && evicted.allSatisfy { !policy.contains($0) })
            #expect(policy.resize(capacityBytes: 20_000).isEmpty)
            for key in 100..<300 { _ = policy.request(key, size: 100) }
            #expect(policy.usedBytes == 20_000, "the larger budget is used")
        }
        if s3fifo {
            var policy = S3FIFOPolicy<Int>(capacityBytes: 10_000)
            run(&policy)
        } else {
            var policy = LRUPolicy<Int>(capacityBytes: 10_000)
            run(&policy)
        }
    }

    static func check<P: EvictionPolicy>(_ policy: inout P, capacity: Int64, generator: inout SplitMix64, round: Int) where P.Key == Int {
        var held: [Int: Int64] = [:]
        let sizes = (0..<200).map { _ in Int64.random(in: 1...600, using: &generator) }
        for step in 0..<3000 {
            let key = Int.random(in: 0..<200, using: &generator)
            if Int.random(in: 0..<50, using: &generator) == 0 {
                policy.remove(key)
                held[key] = nil
                continue
            }
            let outcome = policy.request(key, size: sizes[key])
            #expect(outcome.hit == (held[key] != nil), "round \(round) step \(step)")
            for victim in outcome.evicted {
                #expect(held.removeValue(forKey: victim) != nil, "evicted a key that was not held")
                #expect(!policy.contains(victim))
            }
            if !outcome.hit && sizes[key] <= capacity { held[key] = sizes[key] }
            #expect(policy.usedBytes == held.values.reduce(0, +), "round \(round) step \(step)")
            #expect(policy.usedBytes <= capacity)
            #expect(held.keys.allSatisfy { policy.contains($0) })
        }
    }

    @Test func lruEvictsTheLeastRecentlyUsed() {
        var lru = LRUPolicy<String>(capacityBytes: 3)
        for key in ["a", "b", "c"] { _ = lru.request(key, size: 1) }
        _ = lru.request("a", size: 1)
        #expect(lru.request("d", size: 1).evicted == ["b"])
        #expect(lru.request("e", size: 2).evicted == ["c", "a"])
        #expect(lru.request("huge", size: 4) == (false, []), "larger than the budget: not admitted")
    }

    /// A scan of one-hit wonders does not push a popular object out of S3-FIFO's main queue, but does out of LRU.
    @Test func s3fifoResistsScans() {
        var s3 = S3FIFOPolicy<Int>(capacityBytes: 100)
        var lru = LRUPolicy<Int>(capacityBytes: 100)
        for _ in 0..<3 {
            for hot in 0..<10 {
                _ = s3.request(hot, size: 5)
                _ = lru.request(hot, size: 5)
            }
        }
        for cold in 1000..<1200 {
            _ = s3.request(cold, size: 5)
            _ = lru.request(cold, size: 5)
        }
        let s3Held = (0..<10).filter { s3.contains($0) }.count
        let lruHeld = (0..<10).filter { lru.contains($0) }.count
        #expect(s3Held == 10, "S3-FIFO kept \(s3Held) of 10 hot objects")
        #expect(lruHeld == 0)
    }

    @Test func aGhostHitGoesStraightToMain() {
        var s3 = S3FIFOPolicy<Int>(capacityBytes: 10)
        _ = s3.request(1, size: 5)
        _ = s3.request(2, size: 5)
        let outcome = s3.request(3, size: 5)
        #expect(outcome.evicted == [1], "1 was never re-requested: evicted from small into the ghost")
        _ = s3.request(1, size: 5)
        #expect(s3.contains(1))
    }

    @Test func zipfTracesAreSkewedAndReproducible() {
        let first = Array(ZipfTrace(objects: 1000, alpha: 1.0, seed: 3).prefix(20_000))
        let second = Array(ZipfTrace(objects: 1000, alpha: 1.0, seed: 3).prefix(20_000))
        #expect(first == second)
        let top = first.filter { $0 < 10 }.count
        // Σ_{k≤10} 1/k ÷ H(1000) ≈ 2.93 / 7.49 ≈ 39 % of requests go to the top 1 % of objects.
        #expect(abs(Double(top) / 20_000 - 0.39) < 0.02)
    }
}
