import Control
import Foundation
import Ledger
import LedgerStore
import Manifest
import Royalty
import Testing
import TestSupport

/// `POST /v1/statements` and `GET /v1/statements/{dsp}/{period}` over a real ledger, with a fixed catalog of
/// published recordings.
@Suite struct StatementAPITests {
    struct Published: RecordingSource {
        func recordings() throws -> [Catalog.Recording] {
            [Catalog.Recording(contentID: "song-1", artistID: "luna", isrc: try ISRC("US-RC1-76-07839"))]
        }
    }

    static let header = "SalesTransactionId,ResourceISRC,ContentId,ArtistId,Territory,UseType,Usages,NetRevenue,Currency\n"
    static let november = header + """
        t1,USRC17607839,,,FR,Stream,12000,38.40,EUR
        t2,,duet,,DE,Stream,500,1.01,EUR
        t3,GBAYE0000001,,stranger,GB,Download,3,2.97,EUR
        t4,GBAYE0000002,,,US,Stream,10,0.00,EUR

        """

    static func body(_ statement: String, dsp: String = "spotify", period: String = "2026-11") throws -> Data {
        try JSONSerialization.data(withJSONObject: ["dsp": dsp, "period": period, "statement": statement])
    }

    static func report(_ response: ControlClient.Response) throws -> Views.StatementReport {
        try Views.decoder().decode(Views.StatementReport.self, from: response.body)
    }

    /// Σ balances per currency is zero: nothing created or lost.
    static func balanced(_ store: LedgerStore) throws -> Bool {
        var sums: [String: Int64] = [:]
        for row in try store.balances(prefix: "", after: nil, limit: 10_000) { sums[String(row.account.suffix(3)), default: 0] += row.balance }
        return sums.values.allSatisfy { $0 == 0 }
    }

    @Test func aStatementIsBookedOnceAndReconciled() async throws {
        let harness = try await ControlHarness(royalty: RoyaltySettings(recordings: Published()))
        let admin = harness.client(harness.admin)
        let split = #"{"content":"duet","effective_from":"2026-10-01","shares":[{"artist":"luna","basis_points":6000},{"artist":"sol","basis_points":4000}]}"#
        #expect(try await admin.post("/v1/splits", json: Data(split.utf8)).status == 201)
        let first = try await admin.post("/v1/statements", json: try Self.body(Self.november))
        #expect(first.status == 201, "\(ControlHarness.errorMessage(first))")
        let report = try Self.report(first)
        #expect(report.lines == 4 && report.committed == 3 && report.alreadyImported == 0)
        #expect(report.matched == 2 && report.suspense == 1 && report.zeroRevenue == 1 && report.notBooked == 0)
        #expect(report.totals.map(\.currency) == ["EUR"] && report.totals[0].revenue == 4_238 && report.totals[0].toArtists == 3_941
                && report.totals[0].toSuspense == 297)
        #expect(report.unmatched.map(\.transaction) == ["t3"] && report.unmatched[0].artist == "stranger" && report.unmatched[0].line == 4)
        func balance(_ account: String) throws -> Int64 { try harness.store.balance(try Account(parsing: account)) }
        #expect(try balance("artist/luna/EUR") == 3_840 + 61 && balance("artist/sol/EUR") == 40 && balance("suspense/spotify/EUR") == 297)
        #expect(try balance("external/spotify/EUR") == -4_238)
        #expect(try Self.balanced(harness.store))
        // The same file again changes nothing.
        let size = harness.store.size
        let again = try await admin.post("/v1/statements", json: try Self.body(Self.november))
        let repeated = try Self.report(again)
        #expect(again.status == 200 && repeated.committed == 0 && repeated.alreadyImported == 3)
        #expect(harness.store.size == size)
        // More lines of the same statement: only the new one is booked.
        let amended = Self.november + "t5,,song-1,,FR,Stream,100,0.32,EUR\n"
        let added = try Self.report(try await admin.post("/v1/statements", json: try Self.body(amended)))
        #expect(added.committed == 1 && added.alreadyImported == 3 && added.lines == 5 && added.imports == 2)
        #expect(harness.store.size == size + 1)
        // Lines that disagree with the earlier import: refused, named, nothing imported.
        let changed = Self.november.replacingOccurrences(of: "t2,,duet,,DE,Stream,500,1.01,EUR", with: "t2,,duet,,DE,Stream,500,1.02,EUR")
            + "t6,,song-1,,FR,Stream,1,0.01,EUR\n"
        let refused = try await admin.post("/v1/statements", json: try Self.body(changed))
        #expect(refused.status == 409 && ControlHarness.errorCode(refused) == "statement_conflict")
        #expect(ControlHarness.errorMessage(refused).contains("line 3 (t2): NetRevenue"), "\(ControlHarness.errorMessage(refused))")
        #expect(harness.store.size == size + 1, "nothing of a refused file is booked")
        // The same transaction ids in another DSP's or month's statement are other lines.
        #expect(try await admin.post("/v1/statements", json: try Self.body(Self.november, dsp: "deezer")).status == 201)
        #expect(try await admin.post("/v1/statements", json: try Self.body(Self.november, period: "2026-12")).status == 201)
        let read = try Self.report(try await admin.get("/v1/statements/spotify/2026-11"))
        #expect(read.lines == 5 && read.matched == 3 && read.suspense == 1 && read.committed == nil)
        #expect(try await admin.get("/v1/statements/spotify/2026-10").status == 404)
        #expect(try await admin.get("/v1/statements/Spotify/2026-11").status == 400)
        #expect(try Self.balanced(harness.store))
        #expect(try harness.store.verifyIntegrity().isIntact)
        await harness.stop()
    }

    @Test func badStatementsAreRefusedNamingTheLine() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        let cases: [(Data, String)] = [
            (try Self.body(Self.header + "t1,USRC17607839,,,FR,Stream,1,1.001,EUR\n"), "statement: line 2: NetRevenue"),
            (try Self.body(Self.header + "t1,XX,,,FR,Stream,1,1.00,EUR\n"), "line 2: ResourceISRC"),
            (try Self.body(Self.header + "t1,,song-1,,FR,Stream,1,1.00,EUR\nt1,,song-1,,FR,Stream,1,1.00,EUR\n"), "line 3: SalesTransactionId t1 appears twice"),
            (try Self.body("Foo,Bar\n"), "line 1: unknown column"),
            (try Self.body(Self.header + "t1,,song-1,,FR,Stream,-1,1.00,EUR\n"), "Usages"),
            (try Self.body(Self.november, dsp: "Spotify!"), "dsp:"),
            (try Self.body(Self.november, period: "2026-13"), "period:"),
            (Data(#"{"dsp":"spotify","period":"2026-11"}"#.utf8), "statement"),
        ]
        for (body, expected) in cases {
            let response = try await admin.post("/v1/statements", json: body)
            #expect(response.status == 400 && ControlHarness.errorMessage(response).contains(expected), "\(expected): \(ControlHarness.errorMessage(response))")
        }
        #expect(harness.store.size == 0)
        for token in [harness.artist, harness.node] {
            #expect(try await harness.client(token).post("/v1/statements", json: try Self.body(Self.november)).status == 403)
            #expect(try await harness.client(token).get("/v1/statements/spotify/2026-11").status == 403)
        }
        // Larger than the limit: 413 before anything is parsed.
        let huge = Data(repeating: UInt8(ascii: " "), count: (48 << 20) + 1)
        let tooLarge = try await admin.post("/v1/statements", json: huge)
        #expect(tooLarge.status == 413)
        await harness.stop()
    }

    /// The hostile run after issue 24: 9,300 lines of 10^13.00 EUR each (every one within the posting limit) were
    /// booked up to 9,222 lines, then answered 422 — and the statement's report stayed 422 for good. A statement whose
    /// lines (with those imported before) pass the 64-bit range is refused whole now, and a report that fits stays
    /// readable.
    @Test func aStatementPastTheRangeIsRefusedBeforeAnythingIsBooked() async throws {
        let harness = try await ControlHarness(royalty: RoyaltySettings(recordings: Published()))
        let admin = harness.client(harness.admin)
        let line = { (index: Int) in "t\(index),USRC17607839,,,FR,Stream,1,10000000000000.00,EUR\n" }
        let fits = Self.header + (0..<9_000).map(line).joined()
        let first = try await admin.post("/v1/statements", json: try Self.body(fits, dsp: "bigdsp"))
        #expect(first.status == 201, "\(ControlHarness.errorMessage(first))")
        let size = harness.store.size
        let past = Self.header + (0..<9_300).map(line).joined()
        let refused = try await admin.post("/v1/statements", json: try Self.body(past, dsp: "bigdsp"))
        #expect(refused.status == 422 && ControlHarness.errorCode(refused) == "overflow" && ControlHarness.errorMessage(refused).contains("amount"),
                "\(refused.status) \(ControlHarness.errorMessage(refused))")
        #expect(ControlHarness.errorMessage(refused).contains("nothing was imported"))
        #expect(harness.store.size == size, "nothing of it was booked")
        #expect(try await admin.get("/v1/statements/bigdsp/2026-11").status == 200, "the report of what was imported stays readable")
        #expect(try Self.balanced(harness.store))
        await harness.stop()
    }
}
