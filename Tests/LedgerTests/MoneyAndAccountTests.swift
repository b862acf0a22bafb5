import Testing
@testable import Ledger

@Suite struct CurrencyTests {
    @Test func amountsParseExactlyToMinorUnits() throws {
        let eur = try Currency("EUR"), jpy = try Currency("JPY"), kwd = try Currency("KWD")
        #expect(try eur.minorUnits("12.34") == 1234 && eur.minorUnits("12.3") == 1230 && eur.minorUnits("12") == 1200)
        #expect(try eur.minorUnits("0.01") == 1 && jpy.minorUnits("1500") == 1500 && kwd.minorUnits("1.234") == 1234)
        #expect(eur.format(1234) == "12.34" && eur.format(5) == "0.05" && eur.format(-250) == "-2.50" && jpy.format(7) == "7")
        #expect(kwd.format(1_000) == "1.000")
    }

    @Test(arguments: ["12.345", "1.5e2", "-1", "+1", "", ".5", "5.", "1,00", " 1", "1 ", "١٢", "99999999999999999999", "10000000000000.01"])
    func malformedAmountsAreRefused(text: String) throws {
        let eur = try Currency("EUR")
        #expect(throws: LedgerError.self, "\(text)") { try eur.minorUnits(text) }
    }

    @Test func precisionErrorsSayWhy() throws {
        do {
            _ = try Currency("JPY").minorUnits("1.5")
            Issue.record("accepted")
        } catch {
            #expect(error.description == "invalid amount: JPY has 0 decimal places, \"1.5\" has 1")
        }
        #expect(throws: LedgerError.unknownCurrency("XXX")) { try Currency("XXX") }
        #expect(throws: LedgerError.unknownCurrency("eur")) { try Currency("eur") }
    }
}

@Suite struct AccountTests {
    @Test func accountsRoundTripThroughTheirText() throws {
        for text in ["artist/luna.k/EUR", "platform/revenue/USD", "tax/FR/EUR", "payouts/in-flight/JPY", "external/spotify/EUR"] {
            #expect(try Account(parsing: text).description == text)
        }
        #expect(try Account(parsing: "artist/luna.k/EUR").artist == "luna.k")
        #expect(try !Account(parsing: "external/bank/EUR").forbidsNegativeBalance)
        #expect(try Account(parsing: "tax/DE/EUR").forbidsNegativeBalance)
    }

    @Test(arguments: ["artist/Luna/EUR", "artist//EUR", "tax/fra/EUR", "tax/fr/EUR", "platform/costs/EUR", "payouts/done/EUR",
                      "artist/x/EURO", "artist/x", "artist/x/EUR/extra", "misc/x/EUR"])
    func badAccountsAreRefused(text: String) {
        #expect(throws: LedgerError.self, "\(text)") { try Account(parsing: text) }
    }
}

@Suite struct TransferTests {
    static func account(_ text: String) -> Account { try! Account(parsing: text) }

    @Test func postingsMustBalancePerCurrency() throws {
        let ok = try Transfer(idempotencyKey: "dsp-2026-11:spotify", kind: .statement, postings: [
            .init(.debit, Self.account("external/spotify/EUR"), 10_000),
            .init(.credit, Self.account("artist/luna/EUR"), 7_000),
            .init(.credit, Self.account("platform/revenue/EUR"), 3_000),
            .init(.debit, Self.account("external/bandcamp/USD"), 500),
            .init(.credit, Self.account("artist/luna/USD"), 500),
        ])
        #expect(ok.postings.count == 5)
        #expect(throws: LedgerError.unbalanced(currency: "EUR", debits: 10_000, credits: 9_999)) {
            try Transfer(idempotencyKey: "k", kind: .royalty, postings: [
                .init(.debit, Self.account("external/spotify/EUR"), 10_000), .init(.credit, Self.account("artist/luna/EUR"), 9_999)])
        }
    }

    @Test func everyOtherRuleHasItsError() {
        let a = Self.account("external/spotify/EUR"), b = Self.account("artist/luna/EUR")
        let cases: [(String, () throws -> Transfer)] = [
            ("1 posting", { try Transfer(idempotencyKey: "k", kind: .tip, postings: [.init(.debit, a, 1)]) }),
            ("zero", { try Transfer(idempotencyKey: "k", kind: .tip, postings: [.init(.debit, a, 0), .init(.credit, b, 0)]) }),
            ("negative", { try Transfer(idempotencyKey: "k", kind: .tip, postings: [.init(.debit, a, -5), .init(.credit, b, -5)]) }),
            ("too large", { try Transfer(idempotencyKey: "k", kind: .tip, postings: [.init(.debit, a, Currency.maximumMinorUnits + 1),
                                                                                  .init(.credit, b, Currency.maximumMinorUnits + 1)]) }),
            ("same account twice", { try Transfer(idempotencyKey: "k", kind: .tip, postings: [.init(.debit, a, 1), .init(.credit, a, 1)]) }),
            ("empty key", { try Transfer(idempotencyKey: "", kind: .tip, postings: [.init(.debit, a, 1), .init(.credit, b, 1)]) }),
            ("key with space", { try Transfer(idempotencyKey: "a b", kind: .tip, postings: [.init(.debit, a, 1), .init(.credit, b, 1)]) }),
            ("control in memo", { try Transfer(idempotencyKey: "k", kind: .tip, postings: [.init(.debit, a, 1), .init(.credit, b, 1)], memo: "x\u{7}") }),
            ("memo too long", { try Transfer(idempotencyKey: "k", kind: .tip, postings: [.init(.debit, a, 1), .init(.credit, b, 1)],
                                             memo: String(repeating: "é", count: 129)) }),
        ]
        for (name, make) in cases {
            #expect(throws: LedgerError.self, "\(name)") { try make() }
        }
    }
}
