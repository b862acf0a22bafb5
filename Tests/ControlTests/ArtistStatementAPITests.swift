import Control
import Foundation
import Ledger
import LedgerStore
import Royalty
import Testing
import TestSupport

/// `GET /v1/artists/{artist}/statement` over a real ledger: a month of tips, a DSP line and a payout, its totals and
/// lines, the CSV form, who may read it, and the receipt that proves its entries.
@Suite struct ArtistStatementAPITests {
    @Test func anArtistReadsItsMonthAndItsReceiptProvesIt() async throws {
        let harness = try await ControlHarness(royalty: PayoutRunAPITests.settings)
        let admin = harness.client(harness.admin)
        try await PayoutRunAPITests.artist(harness, "luna", balance: 1, country: "US")
        let tip = #"{"idempotency_key":"pi_1","artist":"luna","amount":1000,"currency":"EUR","source":"stripe"}"#
        #expect(try await admin.post("/v1/tips", json: Data(tip.utf8)).status == 201)
        let statement = "SalesTransactionId,ArtistId,ContentId,Usages,NetRevenue,Currency\nt1,luna,song-9,100,20.00,EUR\n"
        #expect(try await admin.post("/v1/statements", json: try StatementAPITests.body(statement)).status == 201)
        let month = try #require(Month(containing: Int64(Date().timeIntervalSince1970)))
        let run = try await admin.post("/v1/payout-runs", json: Data(#"{"period":"\#(month)","currency":"EUR"}"#.utf8))
        #expect(run.status == 201, "\(ControlHarness.errorMessage(run))")
        let path = "/v1/artists/luna/statement?period=\(month)"
        let response = try await harness.client(harness.artist).get(path)
        #expect(response.status == 200, "\(ControlHarness.errorMessage(response))")
        let view = try Views.decoder().decode(Views.ArtistStatement.self, from: response.body)
        #expect(view.lines.map(\.source) == ["dsp", "other", "payout", "tips"], "\(view.lines.map(\.source))")
        let total = try #require(view.totals.first)
        // Earned: 900 of the tip, 2,000 from the DSP line (a known artist: it has payout settings), 1 by hand.
        #expect(total.earned == 2_901 && total.withheld == 870 && total.pending == 2_031 && total.paid == 0 && total.closing == 0 && total.opening == 0)
        // Every entry of the statement is in the receipt of the same month.
        #expect(try await admin.post("/v1/checkpoints", json: nil).status == 201)
        let receipt = try JSONDecoder().decode(Receipt.self, from: try await harness.client(harness.artist).get(view.receipt).body)
        #expect(Set(view.lines.flatMap(\.entries)) == Set(receipt.entries.map(\.index)))
        // CSV: the totals, then the lines.
        let csv = try await admin.get(path + "&format=csv")
        #expect(csv.status == 200 && csv.headers["content-type"] == "text/csv")
        let text = String(decoding: csv.body, as: UTF8.self)
        #expect(text.hasPrefix("section,source,detail,currency,amount,minor_units,entries\r\ntotal,opening,,EUR,0.00,0,\r\n"))
        #expect(text.contains("total,withheld,,EUR,8.70,870,\r\n") && text.contains("line,dsp,spotify,EUR,20.00,2000,"), "\(text)")
        // Another artist may not read it; bad periods and formats are refused.
        #expect(try await harness.client(harness.otherArtist).get(path).status == 403)
        #expect(try await harness.client(harness.node).get(path).status == 403)
        #expect(try await admin.get("/v1/artists/luna/statement").status == 400)
        #expect(try await admin.get("/v1/artists/luna/statement?period=2026-13").status == 400)
        #expect(try await admin.get(path + "&format=xml").status == 400)
        #expect(try await admin.get("/v1/artists/Luna!/statement?period=2026-11").status == 400)
        await harness.stop()
    }

    /// Issue 24: a tip committed after the last checkpoint appeared in the statement while the receipt of the same
    /// answer stopped at the checkpoint, silently. The statement says how far its receipt proves it.
    @Test func theStatementSaysWhichEntriesItsReceiptProves() async throws {
        let harness = try await ControlHarness(royalty: PayoutRunAPITests.settings)
        let admin = harness.client(harness.admin), artist = harness.client(harness.artist)
        let month = try #require(Month(containing: Int64(Date().timeIntervalSince1970)))
        let path = "/v1/artists/luna/statement?period=\(month)"
        func tip(_ key: String) async throws {
            let body = #"{"idempotency_key":"\#(key)","artist":"luna","amount":1000,"currency":"EUR","source":"stripe"}"#
            #expect(try await admin.post("/v1/tips", json: Data(body.utf8)).status == 201)
        }
        func statement() async throws -> Views.ArtistStatement {
            try Views.decoder().decode(Views.ArtistStatement.self, from: try await artist.get(path).body)
        }
        // No checkpoint yet: nothing is proven, and the statement says so.
        try await tip("pi_1")
        let unsigned = try await statement()
        #expect(unsigned.provenThrough == 0 && unsigned.lines.flatMap { $0.unproven ?? [] } == [0])
        #expect(try await admin.post("/v1/checkpoints", json: nil).status == 201)
        try await tip("pi_2")
        let view = try await statement()
        #expect(view.provenThrough == 1, "the checkpoint signs one entry")
        let tips = try #require(view.lines.first { $0.source == "tips" })
        #expect(tips.entries == [0, 1] && tips.unproven == [1], "the tip after the checkpoint is marked unproven")
        let json = ControlHarness.json(try await artist.get(path))
        #expect(json["proven_through"] as? Int == 1)
        // The receipt proves exactly the entries below the horizon, offline.
        let receipt = try JSONDecoder().decode(Receipt.self, from: try await artist.get(view.receipt).body)
        let verified = try ReceiptVerifier.verify(receipt, verifier: harness.signer.verifier, logOrigin: LedgerModule.defaultLogOrigin)
        #expect(Set(receipt.entries.map(\.index)) == Set(view.lines.flatMap(\.entries).filter { $0 < view.provenThrough }) && verified.count == 1)
        // CSV: the horizon and the unproven entries in the last row.
        let csv = String(decoding: try await artist.get(path + "&format=csv").body, as: UTF8.self)
        #expect(csv.hasSuffix("proof,proven_through,,,,1,1\r\n"), "\(csv)")
        // After the next checkpoint everything is proven.
        #expect(try await admin.post("/v1/checkpoints", json: nil).status == 201)
        let later = try await statement()
        #expect(later.provenThrough == 2 && later.lines.allSatisfy { $0.unproven == nil })
        let full = try JSONDecoder().decode(Receipt.self, from: try await artist.get(later.receipt).body)
        #expect(Set(full.entries.map(\.index)) == Set(later.lines.flatMap(\.entries)))
        await harness.stop()
    }
}
