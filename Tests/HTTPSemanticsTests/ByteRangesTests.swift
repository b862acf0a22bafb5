import Testing
@testable import HTTPSemantics

@Suite struct ByteRangesTests {
    @Test func parsesEveryForm() {
        #expect(ByteRanges.parse("bytes=0-99") == .bytes([.from(0, through: 99)]))
        #expect(ByteRanges.parse("bytes=100-") == .bytes([.from(100, through: nil)]))
        #expect(ByteRanges.parse("bytes=-500") == .bytes([.suffix(500)]))
        #expect(ByteRanges.parse("BYTES=0-0, 5-9 ,-1") == .bytes([.from(0, through: 0), .from(5, through: 9), .suffix(1)]))
        #expect(ByteRanges.parse("bytes=0-1,,2-3") == .bytes([.from(0, through: 1), .from(2, through: 3)]))
    }

    @Test func ignoresInvalidHeaders() {
        for bad in ["", "bytes", "bytes=", "bytes=abc", "bytes=5-2", "items=0-1", "bytes=1-2-3", "bytes=--1", "bytes=+1-2",
                    "bytes=0x10-20", "bytes = 0-1", "bytes=-", "bytes=1 -2", "bytes=0-1,x"] {
            #expect(ByteRanges.parse(Substring(bad)) == .ignored, "\(bad)")
        }
        let many = "bytes=" + (0...ByteRanges.maximumSpecs).map { "\($0 * 200)-\($0 * 200 + 1)" }.joined(separator: ",")
        #expect(ByteRanges.parse(Substring(many)) == .ignored)
    }

    @Test func hugeNumbersSaturateInsteadOfOverflowing() {
        #expect(ByteRanges.parse("bytes=0-99999999999999999999999999") == .bytes([.from(0, through: .max)]))
        #expect(ByteRanges.parse("bytes=99999999999999999999999999-") == .bytes([.from(.max, through: nil)]))
        #expect(ByteRanges.resolve([.from(0, through: .max)], length: 1000) == .satisfiable([0..<1000]))
        #expect(ByteRanges.resolve([.from(.max, through: nil)], length: 1000) == .unsatisfiable)
        #expect(ByteRanges.resolve([.suffix(.max)], length: 1000) == .satisfiable([0..<1000]))
    }

    @Test func resolvesAgainstTheLength() {
        #expect(ByteRanges.resolve([.from(0, through: nil)], length: 10) == .satisfiable([0..<10]))
        #expect(ByteRanges.resolve([.from(9, through: 20)], length: 10) == .satisfiable([9..<10]))
        #expect(ByteRanges.resolve([.from(10, through: nil)], length: 10) == .unsatisfiable)
        #expect(ByteRanges.resolve([.suffix(0)], length: 10) == .unsatisfiable)
        #expect(ByteRanges.resolve([.suffix(3)], length: 10) == .satisfiable([7..<10]))
        #expect(ByteRanges.resolve([.from(0, through: 0)], length: 0) == .unsatisfiable)
        #expect(ByteRanges.resolve([.from(50, through: 60), .from(2000, through: 3000)], length: 1000) == .satisfiable([50..<61]))
    }

    @Test func coalescesOverlappingAndNearbyRanges() {
        #expect(ByteRanges.resolve([.from(500, through: 599), .from(0, through: 99), .from(50, through: 150)], length: 10_000)
            == .satisfiable([500..<600, 0..<151]), "request order kept (RFC 9110 §14.6)")
        #expect(ByteRanges.resolve([.from(0, through: 9), .from(20, through: 29)], length: 1000) == .satisfiable([0..<30]))
        #expect(ByteRanges.resolve([.from(0, through: 9), .from(200, through: 209)], length: 1000) == .satisfiable([0..<10, 200..<210]))
    }

    /// Whatever the specs, the resolved ranges are inside the file, disjoint and separated by more than the gap.
    @Test func resolvedRangesAreAlwaysWellFormed() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let length = UInt64.random(in: 0...5000, using: &generator)
            let specs: [ByteRanges.Spec] = (0..<Int.random(in: 1...8, using: &generator)).map { _ in
                if Bool.random(using: &generator) { return .suffix(UInt64.random(in: 0...6000, using: &generator)) }
                let first = UInt64.random(in: 0...6000, using: &generator)
                return .from(first, through: Bool.random(using: &generator) ? nil : first + UInt64.random(in: 0...3000, using: &generator))
            }
            guard case .satisfiable(let ranges) = ByteRanges.resolve(specs, length: length) else { continue }
            let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
            for (index, range) in sorted.enumerated() {
                #expect(!range.isEmpty && range.upperBound <= length)
                if index > 0 { #expect(range.lowerBound > sorted[index - 1].upperBound + ByteRanges.coalescingGap) }
            }
        }
    }
}
