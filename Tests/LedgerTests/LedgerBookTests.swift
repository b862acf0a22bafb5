import EdgeCache
import Manifest
import Testing
@testable import Ledger

@Suite struct LedgerBookTests {
    static func account(_ text: String) -> Account { try! Account(parsing: text) }
    static let spotify = account("external/spotify/EUR"), luna = account("artist/luna/EUR"), revenue = account("platform/revenue/EUR")
    static let inFlight = account("payouts/in-flight/EUR"), bank = account("external/bank/EUR")

    static func royalty(_ key: String, _ amount: Int64) -> Transfer {
        try! Transfer(idempotencyKey: key, kind: .royalty, postings: [.init(.debit, spotify, amount), .init(.credit, luna, amount * 7 / 10),
                                                                       .init(.credit, revenue, amount - amount * 7 / 10)])
    }

    @Test func exactlyOncePerKey() throws {
        var book = LedgerBook()
        let first = try book.commit(Self.royalty("r1", 1_000), at: 10)
        #expect(try book.commit(Self.royalty("r1", 1_000), at: 20) == .duplicate({ if case .committed(let e) = first { e } else { fatalError() } }()))
        #expect(book.entries.count == 1 && book.balances[Self.luna] == 700)
        #expect(throws: LedgerError.idempotencyConflict("r1")) { try book.commit(Self.royalty("r1", 2_000), at: 30) }
        #expect(book.entries.count == 1 && book.violations().isEmpty)
    }

    @Test func protectedAccountsNeverGoNegativeAndARefusalChangesNothing() throws {
        var book = LedgerBook()
        _ = try book.commit(Self.royalty("r1", 1_000), at: 1)
        let payout = try Transfer(idempotencyKey: "p1", kind: .payout, postings: [.init(.debit, Self.luna, 701), .init(.credit, Self.inFlight, 701)])
        #expect(throws: LedgerError.negativeBalance(account: "artist/luna/EUR", balance: -1)) { try book.commit(payout, at: 2) }
        #expect(book.entries.count == 1 && book.balances[Self.luna] == 700 && book.balances[Self.inFlight] == nil)
    }

    /// Seeded: random transfers (royalties, tips, payouts that may overdraw, settlements), retried, with reused keys,
    /// the invariants checked after every step, one effect per key.
    @Test(arguments: 1...4) func invariantsHoldThroughARandomHistory(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        var book = LedgerBook()
        var sent: [String: Transfer] = [:]
        let artists = (0..<5).map { Self.account("artist/a\($0)/EUR") }
        for step in 0..<800 {
            let key = "k\(Int.random(in: 0..<600, using: &generator))"
            let amount = Int64.random(in: 1...50_000, using: &generator)
            let artist = artists.randomElement(using: &generator)!
            let transfer: Transfer
            if let previous = sent[key], Bool.random(using: &generator) {
                transfer = previous // a retry of the same request
            } else {
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: transfer = try Transfer(idempotencyKey: key, kind: .royalty, postings: [
                    .init(.debit, Self.spotify, amount), .init(.credit, artist, amount / 2), .init(.credit, Self.revenue, amount - amount / 2)])
                case 1: transfer = try Transfer(idempotencyKey: key, kind: .tip, postings: [.init(.debit, Self.bank, amount), .init(.credit, artist, amount)])
                case 2: transfer = try Transfer(idempotencyKey: key, kind: .payout, postings: [.init(.debit, artist, amount), .init(.credit, Self.inFlight, amount)])
                default: transfer = try Transfer(idempotencyKey: key, kind: .payout, postings: [.init(.debit, Self.inFlight, amount), .init(.credit, Self.bank, amount)])
                }
            }
            let outcome: Result<LedgerBook.Outcome, LedgerError>
            do {
                outcome = .success(try book.commit(transfer, at: Int64(step)))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(.committed): sent[key] = transfer
            case .success(.duplicate(let original)): #expect(original.transfer == transfer)
            case .failure(.idempotencyConflict): #expect(sent[key] != nil && sent[key] != transfer)
            case .failure(.negativeBalance): break // a refused overdraft changes nothing (the invariants below say so)
            case .failure(let other): Issue.record("unexpected: \(other)")
            }
            let problems = book.violations()
            try #require(problems.isEmpty, "step \(step): \(problems)")
        }
        #expect(Set(book.entries.map(\.transfer.idempotencyKey)).count == book.entries.count, "one effect per key")
        #expect(book.entries.count > 200)
    }
}
