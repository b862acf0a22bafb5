import Ledger
import Testing
@testable import Royalty

/// An artist's month from its ledger entries: lines by source, totals, and the balance before and after.
@Suite struct ArtistStatementTests {
    static let eur = try! Currency("EUR")
    static let november = Month("2026-11")!

    static func entry(_ index: UInt64, day: String, _ transfer: Transfer) -> LedgerEntry {
        LedgerEntry(index: index, committedAt: CalendarDay(day)!.startSeconds * 1000 + 5, transfer: transfer)
    }

    static func credit(_ key: String, _ kind: Transfer.Kind, from source: Account, _ amount: Int64) throws -> Transfer {
        try Transfer(idempotencyKey: key, kind: kind, postings: [.init(.debit, source, amount), .init(.credit, try Account(.artist("luna"), eur), amount)])
    }

    @Test func aMonthIsSummedBySourceWithItsEntries() throws {
        let dsp = try Account(.external("spotify"), Self.eur), platform = try Account(.platformRevenue, Self.eur)
        let run = PayoutRun.ID("2026-11-EUR")!
        let payout = PayoutRun.Payout(artist: "luna", gross: 5_000, withheld: 1_500, net: 3_500, taxCountry: "US",
                                      method: .manual(reference: "x"), accountName: "Luna")
        let october = PayoutRun.ID("2026-10-EUR")!
        let oldPayout = PayoutRun.Payout(artist: "luna", gross: 100, withheld: 30, net: 70, taxCountry: "US", method: .manual(reference: "x"), accountName: "Luna")
        let entries = [
            Self.entry(0, day: "2026-10-20", try Self.credit("tip:a", .tip, from: try Account(.external("stripe"), Self.eur), 1_000)),
            Self.entry(1, day: "2026-10-31", try PayoutRun.transfers(oldPayout, run: october)[0]),
            Self.entry(2, day: "2026-11-01", try Self.credit("royalty:views:2026-10:EUR:song-1", .royalty, from: platform, 2_000)),
            Self.entry(3, day: "2026-11-02", try Self.credit("statement:spotify:2026-11:t1", .statement, from: dsp, 3_000)),
            Self.entry(4, day: "2026-11-03", try Self.credit("royalty:views:2026-10:EUR:song-2", .royalty, from: platform, 7)),
            Self.entry(5, day: "2026-11-04", try Self.credit("statement:spotify:2026-11:t2", .statement, from: dsp, 1)),
            Self.entry(6, day: "2026-11-05", try Self.credit("tip:b", .tip, from: try Account(.external("stripe"), Self.eur), 90)),
            Self.entry(7, day: "2026-11-06", try PayoutRun.failures(oldPayout, run: october)[0]),
            Self.entry(8, day: "2026-11-30", try PayoutRun.transfers(payout, run: run)[0]),
            Self.entry(9, day: "2026-12-01", try Self.credit("tip:c", .tip, from: try Account(.external("stripe"), Self.eur), 5)),
        ]
        let statement = try ArtistStatement(artist: "luna", period: Self.november, entries: entries, settlements: [:])
        #expect(statement.lines.map { "\($0.source.name) \($0.source.detail ?? "-") \($0.amount) \($0.entries)" } == [
            "dsp spotify 3001 [3, 5]", "payout 2026-11-EUR -5000 [8]", "payout_returned 2026-10-EUR 100 [7]", "tips - 90 [6]",
            "views song-1 2000 [2]", "views song-2 7 [4]",
        ])
        let total = try #require(statement.totals.first)
        #expect(total.opening == 1_000 - 100 && total.earned == 3_001 + 90 + 2_007 && total.withheld == 1_500)
        #expect(total.paid == 0 && total.pending == 3_500 && total.returned == 100)
        #expect(total.closing == total.opening + 3_001 + 90 + 2_007 + 100 - 5_000)
        #expect(total.accountedClosing == total.closing)
        // Confirmed: paid, no longer pending. The keys to look up are the run's settlement keys.
        #expect(ArtistStatement.settlementKeys(artist: "luna", entries: entries).contains("payout-confirm:2026-11:EUR:luna"))
        let confirmation = Self.entry(10, day: "2026-12-02", try PayoutRun.confirmations(payout, run: run)[0])
        let settled = try ArtistStatement(artist: "luna", period: Self.november, entries: entries,
                                          settlements: ["payout-confirm:2026-11:EUR:luna": confirmation])
        #expect(settled.totals[0].paid == 3_500 && settled.totals[0].pending == 0)
        // An empty month: no lines, no totals.
        #expect(try ArtistStatement(artist: "luna", period: Month("2026-09")!, entries: entries, settlements: [:]).lines.isEmpty)
        #expect(Month("2026-12")!.next == Month("2027-01") && Month("2026-11")!.endSeconds == CalendarDay("2026-12-01")!.startSeconds)
    }

    /// Issue 24: a payout of 28.89 failed and was returned in its month, yet the statement showed withheld 5.78 and
    /// the net in no total: opening + earned − withheld − paid − pending + returned = 52.00 with a closing of 28.89.
    @Test func aPayoutThatFailedInItsMonthCountsInNoTotal() throws {
        let dsp = try Account(.external("spotify"), Self.eur)
        let run = PayoutRun.ID("2026-11-EUR")!
        let payout = PayoutRun.Payout(artist: "luna", gross: 2_889, withheld: 578, net: 2_311, taxCountry: "GB",
                                      method: .manual(reference: "x"), accountName: "Luna")
        let paid = Self.entry(1, day: "2026-11-20", try PayoutRun.transfers(payout, run: run)[0])
        let failed = Self.entry(2, day: "2026-11-25", try PayoutRun.failures(payout, run: run)[0])
        let entries = [Self.entry(0, day: "2026-11-02", try Self.credit("statement:spotify:2026-11:t1", .statement, from: dsp, 2_889)), paid, failed]
        #expect(ArtistStatement.settlementKeys(artist: "luna", entries: entries) == ["payout-confirm:2026-11:EUR:luna", "payout-fail:2026-11:EUR:luna"])
        let statement = try ArtistStatement(artist: "luna", period: Self.november, entries: entries, settlements: ["payout-fail:2026-11:EUR:luna": failed])
        let total = try #require(statement.totals.first)
        #expect(total.earned == 2_889 && total.withheld == 0 && total.paid == 0 && total.pending == 0 && total.returned == 0, "\(total)")
        #expect(total.closing == 2_889 && total.accountedClosing == 2_889)
        #expect(statement.lines.map { "\($0.source.name) \($0.amount)" } == ["dsp 2889", "payout -2889", "payout_returned 2889"], "the lines show it")
        // Failed in the next month: in its month it stood withheld and pending; the next month has it returned.
        let late = Self.entry(2, day: "2026-12-03", try PayoutRun.failures(payout, run: run)[0])
        let lateEntries = [entries[0], paid, late]
        let november = try #require(try ArtistStatement(artist: "luna", period: Self.november, entries: lateEntries,
                                                        settlements: ["payout-fail:2026-11:EUR:luna": late]).totals.first)
        #expect(november.withheld == 578 && november.pending == 2_311 && november.returned == 0 && november.closing == 0)
        #expect(november.accountedClosing == november.closing)
        let december = try #require(try ArtistStatement(artist: "luna", period: Month("2026-12")!, entries: lateEntries,
                                                        settlements: ["payout-fail:2026-11:EUR:luna": late]).totals.first)
        #expect(december.opening == 0 && december.returned == 2_889 && december.closing == 2_889 && december.accountedClosing == 2_889)
        // Confirmed, whenever: paid.
        let confirmation = Self.entry(3, day: "2026-12-04", try PayoutRun.confirmations(payout, run: run)[0])
        let settled = try #require(try ArtistStatement(artist: "luna", period: Self.november, entries: [entries[0], paid],
                                                       settlements: ["payout-confirm:2026-11:EUR:luna": confirmation]).totals.first)
        #expect(settled.withheld == 578 && settled.paid == 2_311 && settled.pending == 0 && settled.accountedClosing == settled.closing)
    }

    /// A payout in several parts (one posting cannot carry its gross), failed in its month: still no total.
    @Test func aPayoutInPartsAddsUpToo() throws {
        let run = PayoutRun.ID("2026-11-EUR")!
        let gross = 3 * Currency.maximumMinorUnits
        let payout = PayoutRun.Payout(artist: "luna", gross: gross, withheld: gross / 5, net: gross - gross / 5, taxCountry: "GB",
                                      method: .manual(reference: "x"), accountName: "Luna")
        let dsp = try Account(.external("spotify"), Self.eur)
        var entries: [LedgerEntry] = []
        for index in 0..<3 {
            entries.append(Self.entry(UInt64(index), day: "2026-11-02",
                                      try Self.credit("statement:spotify:2026-11:t\(index)", .statement, from: dsp, Currency.maximumMinorUnits)))
        }
        entries += try PayoutRun.transfers(payout, run: run).enumerated().map { Self.entry(UInt64(3 + $0.offset), day: "2026-11-20", $0.element) }
        let keys = ArtistStatement.settlementKeys(artist: "luna", entries: entries)
        #expect(keys.count == 2 * PayoutRun.parts(payout).count)
        let failures = try PayoutRun.failures(payout, run: run).enumerated().map { Self.entry(UInt64(100 + $0.offset), day: "2026-11-21", $0.element) }
        let pending = try #require(try ArtistStatement(artist: "luna", period: Self.november, entries: entries, settlements: [:]).totals.first)
        #expect(pending.withheld == payout.withheld && pending.pending == payout.net && pending.accountedClosing == pending.closing)
        let all = Dictionary(uniqueKeysWithValues: failures.map { ($0.transfer.idempotencyKey, $0) })
        let returned = try #require(try ArtistStatement(artist: "luna", period: Self.november, entries: entries + failures, settlements: all).totals.first)
        #expect(returned.withheld == 0 && returned.pending == 0 && returned.closing == gross && returned.accountedClosing == gross)
    }
}
