import EdgeCache
import Foundation

// Compares LRU with S3-FIFO on seeded Zipf traces of HLS-segment-sized objects, with and without a stream of
// one-hit wonders (a crawler, or a long tail of titles watched once), at several cache sizes. Prints object and
// byte hit ratios. Run by bench/eviction.sh.

let objects = 20_000
let requests = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 600_000
var sizeGenerator = SplitMix64(seed: 7)
// Segments of 1-4 MB, one in five a small object (playlist, init segment) of 1-16 KB.
let sizes: [Int64] = (0..<objects).map { _ in
    Int.random(in: 0..<5, using: &sizeGenerator) == 0 ? Int64.random(in: 1_024...16_384, using: &sizeGenerator)
        : Int64.random(in: 1_000_000...4_000_000, using: &sizeGenerator)
}
let catalogBytes = sizes.reduce(0, +)

struct Result {
    var hits = 0
    var byteHits: Int64 = 0
    var bytes: Int64 = 0
    var objectRatio: Double { Double(hits) / Double(requests) }
    var byteRatio: Double { Double(byteHits) / Double(bytes) }
}

func run<P: EvictionPolicy>(_ policy: inout P, alpha: Double, scanShare: Double, seed: UInt64) -> Result where P.Key == Int {
    var trace = ZipfTrace(objects: objects, alpha: alpha, seed: seed)
    var scan = SplitMix64(seed: seed ^ 0xABCDEF)
    var nextUnique = objects
    var result = Result()
    for _ in 0..<requests {
        let key: Int
        let size: Int64
        if Double(scan.next() >> 11) / Double(1 << 53) < scanShare {
            key = nextUnique
            size = 2_000_000
            nextUnique += 1
        } else {
            key = trace.next()!
            size = sizes[key]
        }
        let outcome = policy.request(key, size: size)
        result.bytes += size
        if outcome.hit {
            result.hits += 1
            result.byteHits += size
        }
    }
    return result
}

print("objects=\(objects) (catalog \(catalogBytes / 1_000_000_000) GB), requests=\(requests) per run, same seeded trace for both")
print("alpha  scan  cache   LRU obj  S3FIFO obj   LRU byte  S3FIFO byte  better")
var wins = ["LRU": 0, "S3-FIFO": 0]
for alpha in [0.8, 1.0, 1.2] {
    for scanShare in [0.0, 0.3] {
        for fraction in [0.01, 0.05, 0.10, 0.20] {
            let capacity = Int64(Double(catalogBytes) * fraction)
            var lru = LRUPolicy<Int>(capacityBytes: capacity)
            var s3 = S3FIFOPolicy<Int>(capacityBytes: capacity)
            let a = run(&lru, alpha: alpha, scanShare: scanShare, seed: 42)
            let b = run(&s3, alpha: alpha, scanShare: scanShare, seed: 42)
            let better = b.byteRatio >= a.byteRatio ? "S3-FIFO" : "LRU"
            wins[better, default: 0] += 1
            print(String(format: "%5.1f  %3.0f%%  %4.0f%%   %7.4f     %7.4f    %7.4f      %7.4f  %@",
                         alpha, scanShare * 100, fraction * 100, a.objectRatio, b.objectRatio, a.byteRatio, b.byteRatio, better))
        }
    }
}
print("better byte hit ratio: S3-FIFO in \(wins["S3-FIFO"]!) of 24 configurations, LRU in \(wins["LRU"]!)")
