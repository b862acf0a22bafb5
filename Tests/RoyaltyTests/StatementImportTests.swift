import Ledger
import Manifest
import Testing
@testable import Royalty

/// Booking a DSP statement: who each line pays, suspense for the unknown, keys, and lines that disagree.
@Suite struct StatementImportTests {
    static let period = Month("2026-11")!

    static func holders() throws -> RightsHolders {
        var splits = SplitBook()
        try splits.add(try SplitRule(content: "duet", effectiveFrom: CalendarDay("2026-10-01")!.startSeconds,
                                     shares: [Share(artist: "luna", basisPoints: 6_000), Share(artist: "sol", basisPoints: 4_000)]))
        // Takes effect after the period's first day: not applied to November.
        try splits.add(try SplitRule(content: "duet", effectiveFrom: CalendarDay("2026-11-15")!.startSeconds,
                                     shares: [Share(artist: "luna", basisPoints: 10_000)]))
        let catalog = Catalog(recordings: [Catalog.Recording(contentID: "song-1", artistID: "luna", isrc: try ISRC("US-RC1-76-07839")),
                                           Catalog.Recording(contentID: "duet", artistID: "luna", isrc: nil)],
                              otherArtists: ["ray"])
        return RightsHolders(splits: splits, catalog: catalog)
    }

    @Test func eachLinePaysItsRecordingsHoldersOrWaitsInSuspense() throws {
        let statement = try DSPStatement(csv: """
            SalesTransactionId,ResourceISRC,ContentId,ArtistId,Territory,UseType,Usages,NetRevenue,Currency
            t1,USRC17607839,,,FR,Stream,12000,38.40,EUR
            t2,,duet,,DE,Stream,500,1.01,EUR
            t3,GBAYE0000001,,ray,GB,Download,3,2.97,GBP
            t4,GBAYE0000002,,stranger,US,Stream,10,0.05,USD
            t5,,song-9,,,,10,0.00,EUR
            """)
        let bookings = try StatementImport.book(statement, dsp: "spotify", period: Self.period, holders: try Self.holders())
        #expect(bookings.map(\.match) == [.content("song-1"), .content("duet"), .artist("ray"), .suspense, .suspense])
        func postings(_ index: Int) -> [String] { bookings[index].transfer?.postings.map { "\($0.side) \($0.account) \($0.amount)" } ?? [] }
        #expect(postings(0) == ["debit external/spotify/EUR 3840", "credit artist/luna/EUR 3840"])
        // 101 cents split 60/40 by the rule in force on 1 November: 60.6 and 40.4 → 61 and 40 (largest remainder).
        #expect(postings(1) == ["debit external/spotify/EUR 101", "credit artist/luna/EUR 61", "credit artist/sol/EUR 40"])
        #expect(postings(2) == ["debit external/spotify/GBP 297", "credit artist/ray/GBP 297"])
        #expect(postings(3) == ["debit external/spotify/USD 5", "credit suspense/spotify/USD 5"])
        #expect(bookings[4].transfer == nil, "no revenue, nothing to move")
        #expect(bookings[0].transfer?.idempotencyKey == "statement:spotify:2026-11:t1" && bookings[0].transfer?.kind == .statement)
        #expect(bookings[0].transfer?.memo == "spotify 2026-11 line 2, ISRC USRC17607839, 12000 usages (FR Stream)")
    }

    @Test func longTransactionIdsAreDigestedIntoTheKey() {
        let short = StatementImport.key(dsp: "spotify", period: Self.period, transaction: "tx-1")
        #expect(short == "statement:spotify:2026-11:tx-1")
        let long = String(repeating: "x", count: 128)
        let key = StatementImport.key(dsp: String(repeating: "d", count: 32), period: Self.period, transaction: long)
        #expect(key.utf8.count <= Transfer.maximumKeyBytes && key.contains(":sha256:"))
        #expect(key != StatementImport.key(dsp: String(repeating: "d", count: 32), period: Self.period, transaction: long + "y"))
        #expect(StatementImport.isDSPName("spotify") && !StatementImport.isDSPName("Spotify") && !StatementImport.isDSPName(String(repeating: "d", count: 33)))
    }

    @Test func linesThatDisagreeWithAnEarlierImportAreNamed() throws {
        let earlier = try DSPStatement(csv: "SalesTransactionId,ContentId,Usages,NetRevenue,Currency\nt1,song-1,10,1.00,EUR\nt2,song-1,5,0.50,EUR\n")
        let now = try DSPStatement(csv: "SalesTransactionId,ContentId,Usages,NetRevenue,Currency\nt1,song-1,10,1.00,EUR\nt2,song-2,5,0.51,EUR\nt3,song-1,1,0.10,EUR\n")
        let byTransaction = Dictionary(uniqueKeysWithValues: earlier.lines.map { ($0.transactionID, $0) })
        let differences = StatementImport.differences(now, earlier: byTransaction)
        #expect(differences == [StatementImport.Difference(line: 3, transaction: "t2", fields: ["ContentId", "NetRevenue"])])
        #expect(StatementImport.differences(earlier, earlier: byTransaction).isEmpty)
    }
}
