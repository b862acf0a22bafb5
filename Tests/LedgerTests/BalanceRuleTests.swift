import Testing
@testable import Ledger

/// The one balance rule: credits add, debits subtract, nothing wraps, protected accounts never go below zero.
@Suite struct BalanceRuleTests {
    static let eur = try! Currency("EUR")

    @Test func theRule() throws {
        let artist = try Account(.artist("a"), Self.eur)
        let bank = try Account(.external("bank"), Self.eur)
        #expect(try BalanceRule.apply(.init(.credit, artist, 5), to: 10) == 15)
        #expect(try BalanceRule.apply(.init(.debit, artist, 10), to: 10) == 0)
        #expect(throws: LedgerError.negativeBalance(account: "artist/a/EUR", balance: -1)) {
            try BalanceRule.apply(.init(.debit, artist, 11), to: 10)
        }
        #expect(try BalanceRule.apply(.init(.debit, bank, 11), to: 10) == -1, "external accounts may go negative")
        #expect(throws: LedgerError.self) { try BalanceRule.apply(.init(.credit, artist, 1), to: .max) }
        #expect(throws: LedgerError.self) { try BalanceRule.apply(.init(.debit, bank, 2), to: .min + 1) }
        #expect(BalanceRule.move(.max, by: .init(.credit, bank, 1)) == nil, "a check sees the overflow instead of a wrapped sum")
        #expect(BalanceRule.move(-5, by: .init(.credit, bank, 7)) == 2)
    }
}
