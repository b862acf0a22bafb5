import EdgeCache
import Manifest
import Testing
@testable import Ledger

@Suite struct EntryEncodingTests {
    static let entry = LedgerEntry(index: 5, committedAt: 1_795_000_000_000, transfer: try! Transfer(
        idempotencyKey: "tip-42", kind: .tip,
        postings: [.init(.debit, try! Account(parsing: "external/stripe/EUR"), 250), .init(.credit, try! Account(parsing: "artist/luna/EUR"), 250)],
        memo: "merci"))

    /// The documented layout, byte for byte: a change to the encoding must be deliberate (it changes every root).
    @Test func theCanonicalBytesAreTheDocumentedOnes() {
        var expected: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0, 5]
        expected += [0x00, 0x00, 0x01, 0xA1, 0xEE, 0x56, 0x5E, 0x00] // 1 795 000 000 000 ms
        expected += [0, 6] + Array("tip-42".utf8) + [0, 3] + Array("tip".utf8) + [0, 5] + Array("merci".utf8) + [0, 2]
        expected += [0, 19] + Array("external/stripe/EUR".utf8) + [0] + [0, 0, 0, 0, 0, 0, 0, 250]
        expected += [0, 15] + Array("artist/luna/EUR".utf8) + [1] + [0, 0, 0, 0, 0, 0, 0, 250]
        #expect(EntryEncoding.encode(Self.entry) == expected)
        #expect(EntryEncoding.leafHash(Self.entry) == RFC9162.leafHash(expected))
    }

    @Test func decodingIsTheInverseAndStrict() throws {
        let bytes = EntryEncoding.encode(Self.entry)
        #expect(try EntryEncoding.decode(bytes) == Self.entry)
        #expect(throws: LedgerError.self) { try EntryEncoding.decode(bytes + [0]) }
        #expect(throws: LedgerError.self) { try EntryEncoding.decode(Array(bytes.dropLast())) }
        #expect(throws: LedgerError.self) { try EntryEncoding.decode([2] + bytes.dropFirst()) }
        // An edited amount no longer balances: refused when decoded, and its hash differs anyway.
        var edited = bytes
        edited[edited.count - 1] = 251
        #expect(throws: LedgerError.unbalanced(currency: "EUR", debits: 250, credits: 251)) { try EntryEncoding.decode(edited) }
    }
}

@Suite struct EntryEncodingFuzzTests {
    /// Mutated, truncated and random leaves (as an export or a receipt could carry) get an error, never a crash.
    @Test(arguments: 0..<4) func hostileLeavesAreRefusedCleanly(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let valid = EntryEncoding.encode(EntryEncodingTests.entry)
        var decoded = 0
        for _ in 0..<3_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))) }
            if (try? EntryEncoding.decode(bytes)) != nil { decoded += 1 }
        }
        let random = (0..<500).map { _ in (0..<Int.random(in: 0...200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        for bytes in random { _ = try? EntryEncoding.decode(bytes) }
        #expect(decoded < 3_000, "most mutations are refused")
    }
}
