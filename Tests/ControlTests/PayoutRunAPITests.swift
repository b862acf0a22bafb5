@testable import Control
import Foundation
import Ledger
import LedgerStore
import Royalty
import Testing
import TestSupport

/// `POST /v1/payout-runs` and the reads and settlements of a run, over a real ledger.
@Suite struct PayoutRunAPITests {
    static let settings = RoyaltySettings(
        taxRates: try! TaxRates(csv: "country,rate_percent,source\nUS,30,irs\nFR,12.8,dgfip\nDE,,unset\n"),
        sepaDebtor: SEPACreditTransfer.Account(name: "Artist First Streaming B.V.", iban: try! IBAN("NL91ABNA0417164300"), bic: "ABNANL2A"))

    /// Credits `artist` and stores its payout settings (`country` nil: none).
    static func artist(_ harness: ControlHarness, _ name: String, balance: Int64, country: String?, sepa: Bool = true, minimum: Int64 = 1_000) async throws {
        let admin = harness.client(harness.admin)
        #expect(try await admin.post("/v1/transfers", json: ControlHarness.royalty(key: "earn-\(name)", artist: name, amount: balance)).status == 201)
        guard let country else { return }
        let method = sepa ? #""method":"sepa","iban":"DE89 3704 0044 0532 0130 00""# : #""method":"csv","reference":"wallet \#(name)""#
        let body = #"{\#(method),"account_name":"\#(name.capitalized)","minimum":\#(minimum),"currency":"EUR","tax_country":"\#(country)"}"#
        #expect(try await admin.send(method: .PUT, path: "/v1/artists/\(name)/payout-settings", body: Data(body.utf8),
                                     headers: [("Content-Type", "application/json")]).status == 200)
    }

    static func run(_ response: ControlClient.Response) throws -> Views.PayoutRun {
        try Views.decoder().decode(Views.PayoutRun.self, from: response.body)
    }

    static let body = Data(#"{"period":"2026-11","currency":"EUR"}"#.utf8)

    @Test func aRunPaysEachEligibleArtistOnceAndSaysWhyOthersWait() async throws {
        let harness = try await ControlHarness(royalty: Self.settings)
        try await Self.artist(harness, "luna", balance: 10_001, country: "FR")
        try await Self.artist(harness, "sol", balance: 5_000, country: "US", sepa: false)
        try await Self.artist(harness, "tiny", balance: 500, country: "US")
        try await Self.artist(harness, "nobody", balance: 7_000, country: nil)
        try await Self.artist(harness, "unset", balance: 7_000, country: "DE")
        let admin = harness.client(harness.admin)
        let first = try await admin.post("/v1/payout-runs", json: Self.body)
        #expect(first.status == 201, "\(ControlHarness.errorMessage(first))")
        let run = try Self.run(first)
        #expect(run.run == "2026-11-EUR" && run.payouts == 2 && run.skipped == 3 && run.refused.isEmpty)
        #expect(run.gross == 15_001 && run.withheld == 1_280 + 1_500 && run.net == 8_721 + 3_500)
        #expect(run.files == ["sepa": "/v1/payout-runs/2026-11-EUR/files/sepa", "csv": "/v1/payout-runs/2026-11-EUR/files/csv"])
        func balance(_ account: String) throws -> Int64 { try harness.store.balance(try Account(parsing: account)) }
        #expect(try balance("artist/luna/EUR") == 0 && balance("artist/sol/EUR") == 0 && balance("artist/tiny/EUR") == 500)
        #expect(try balance("tax/FR/EUR") == 1_280 && balance("tax/US/EUR") == 1_500 && balance("payouts/in-flight/EUR") == 12_221)
        // Running it again answers the first run and moves nothing, even with new money in an artist's account.
        let size = harness.store.size
        try await Self.artist(harness, "late", balance: 9_000, country: "FR")
        let again = try await admin.post("/v1/payout-runs", json: Self.body)
        #expect(again.status == 200)
        let repeated = try Self.run(again)
        #expect(repeated.payouts == 2 && repeated.plannedAt == run.plannedAt && repeated.net == run.net)
        #expect(harness.store.size == size + 1, "only the late royalty was committed")
        #expect(try balance("artist/late/EUR") == 9_000)
        // The page: every artist of the run in order, payouts in flight with their entry, skipped ones with why.
        let page = try Views.decoder().decode(Views.PayoutRunPage.self, from: try await admin.get("/v1/payout-runs/2026-11-EUR").body)
        #expect(page.items.map(\.artist) == ["luna", "nobody", "sol", "tiny", "unset"])
        #expect(page.items.map(\.status) == ["in_flight", "skipped", "in_flight", "skipped", "skipped"])
        #expect(page.items.map { $0.reason ?? "-" } == ["-", "no_payout_settings", "-", "below_minimum", "no_tax_rate"])
        #expect(page.items[0].entry != nil && page.next == nil)
        let paged = try Views.decoder().decode(Views.PayoutRunPage.self, from: try await admin.get("/v1/payout-runs/2026-11-EUR?limit=2").body)
        #expect(paged.items.map(\.artist) == ["luna", "nobody"] && paged.next == "nobody")
        let rest = try Views.decoder().decode(Views.PayoutRunPage.self, from: try await admin.get("/v1/payout-runs/2026-11-EUR?limit=2&after=nobody").body)
        #expect(rest.items.map(\.artist) == ["sol", "tiny"] && rest.next == "tiny")
        // The files: the SEPA file passes the official XSD, the CSV lists the manual payout.
        let sepa = try await admin.get("/v1/payout-runs/2026-11-EUR/files/sepa")
        #expect(sepa.status == 200 && sepa.headers["content-type"] == "application/xml")
        let verdict = try PainSchema.validate(String(decoding: sepa.body, as: UTF8.self))
        #expect(verdict.status == 0, "\(verdict.output)")
        #expect(String(decoding: sepa.body, as: UTF8.self).contains(#"<InstdAmt Ccy="EUR">87.21</InstdAmt>"#))
        let csv = String(decoding: try await admin.get("/v1/payout-runs/2026-11-EUR/files/csv").body, as: UTF8.self)
        #expect(csv.contains("2026-11-EUR,2,sol,Sol,wallet sol,EUR,35.00,3500,1500,US"), "\(csv)")
        #expect(try await admin.get("/v1/payout-runs/2026-11-EUR/files/wire").status == 404)
        #expect(try await admin.get("/v1/payout-runs/2026-10-EUR").status == 404)
        #expect(try await admin.get("/v1/payout-runs/2026-10").status == 400)
        await harness.stop()
    }

    @Test func aPayoutIsConfirmedOrFailedOnceAndOneWayOnly() async throws {
        let harness = try await ControlHarness(royalty: Self.settings)
        try await Self.artist(harness, "luna", balance: 10_001, country: "FR")
        try await Self.artist(harness, "sol", balance: 5_000, country: "US")
        try await Self.artist(harness, "tiny", balance: 500, country: "US")
        let admin = harness.client(harness.admin)
        #expect(try await admin.post("/v1/payout-runs", json: Self.body).status == 201)
        func balance(_ account: String) throws -> Int64 { try harness.store.balance(try Account(parsing: account)) }
        let confirm = try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/luna/confirm", json: nil)
        #expect(confirm.status == 201, "\(ControlHarness.errorMessage(confirm))")
        let confirmed = try Views.decoder().decode(Views.PayoutItem.self, from: confirm.body)
        #expect(confirmed.status == "confirmed" && confirmed.net == 8_721)
        let again = try Views.decoder().decode(Views.PayoutItem.self, from: try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/luna/confirm", json: nil).body)
        #expect(again.entry == confirmed.entry)
        #expect(try balance("external/sepa/EUR") == 8_721 && balance("payouts/in-flight/EUR") == 3_500)
        let failConfirmed = try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/luna/fail", json: nil)
        #expect(failConfirmed.status == 409 && ControlHarness.errorCode(failConfirmed) == "payout_confirmed")
        // A failed payout gives the artist its gross back, tax included; it cannot be confirmed after.
        #expect(try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/sol/fail", json: nil).status == 201)
        #expect(try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/sol/fail", json: nil).status == 200)
        #expect(try balance("artist/sol/EUR") == 5_000 && balance("tax/US/EUR") == 0 && balance("payouts/in-flight/EUR") == 0)
        let confirmFailed = try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/sol/confirm", json: nil)
        #expect(confirmFailed.status == 409 && ControlHarness.errorCode(confirmFailed) == "payout_failed")
        let skipped = try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/tiny/confirm", json: nil)
        #expect(skipped.status == 409 && ControlHarness.errorMessage(skipped).contains("below the artist's minimum"))
        #expect(try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/ghost/confirm", json: nil).status == 404)
        #expect(try await admin.post("/v1/payout-runs/2026-12-EUR/payouts/luna/confirm", json: nil).status == 404)
        // The next month's run pays the returned money again.
        let next = try Self.run(try await admin.post("/v1/payout-runs", json: Data(#"{"period":"2026-12","currency":"EUR"}"#.utf8)))
        #expect(next.payouts == 1 && next.gross == 5_000)
        let page = try Views.decoder().decode(Views.PayoutRunPage.self, from: try await admin.get("/v1/payout-runs/2026-11-EUR").body)
        #expect(page.items.map(\.status) == ["confirmed", "failed", "skipped"])
        #expect(try harness.store.verifyIntegrity().isIntact)
        await harness.stop()
    }

    /// A run planned by an origin that died before committing (the plan is stored first): the next call commits the
    /// plan as stored, and a payout whose balance fell meanwhile is refused, named, and stays pending.
    @Test func aRunPlannedBeforeACrashIsResumedAsPlanned() async throws {
        let harness = try await ControlHarness(royalty: Self.settings)
        try await Self.artist(harness, "luna", balance: 10_001, country: "FR")
        try await Self.artist(harness, "sol", balance: 5_000, country: "US")
        _ = try PayoutRunner(store: harness.store, settings: Self.settings).plan(PayoutRun.ID("2026-11-EUR")!, at: 1)
        let admin = harness.client(harness.admin)
        // Since the plan: luna earned more (not in this run), sol's balance fell below what was planned.
        #expect(try await admin.post("/v1/transfers", json: ControlHarness.royalty(key: "more-luna", artist: "luna", amount: 99)).status == 201)
        let spend = Data(#"{"idempotency_key":"fee-sol","kind":"adjustment","postings":[{"account":"artist/sol/EUR","side":"debit","amount":1},{"account":"platform/revenue/EUR","side":"credit","amount":1}]}"#.utf8)
        #expect(try await admin.post("/v1/transfers", json: spend).status == 201)
        let resumed = try await admin.post("/v1/payout-runs", json: Self.body)
        #expect(resumed.status == 200, "planned before")
        let run = try Self.run(resumed)
        #expect(run.refused.map(\.artist) == ["sol"] && run.refused[0].reason.contains("negative"), "\(run.refused)")
        #expect(try harness.store.balance(try Account(parsing: "artist/luna/EUR")) == 99, "the plan's gross was paid, the later 99 waits")
        let page = try Views.decoder().decode(Views.PayoutRunPage.self, from: try await admin.get("/v1/payout-runs/2026-11-EUR").body)
        #expect(page.items.map(\.status) == ["in_flight", "pending"])
        let notInFlight = try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/sol/confirm", json: nil)
        #expect(notInFlight.status == 409 && ControlHarness.errorCode(notInFlight) == "not_in_flight")
        await harness.stop()
    }

    /// Issue 24: nine DSP lines, each under the posting limit, left one artist above it; every EUR run then failed
    /// with 503 `storage_failure`, and every other artist of the run stayed pending and could not be confirmed.
    @Test func aBalanceOnePostingCannotCarryIsPaidInPartsAndBlocksNobody() async throws {
        struct Known: RecordingSource {
            func recordings() throws -> [Catalog.Recording] { [] }
        }
        var settings = Self.settings
        settings.recordings = Known()
        let harness = try await ControlHarness(royalty: settings)
        let admin = harness.client(harness.admin)
        try await Self.artist(harness, "sol", balance: 5_000, country: "US")
        let big = #"{"method":"sepa","iban":"DE89 3704 0044 0532 0130 00","account_name":"Big","minimum":1,"currency":"EUR","tax_country":"FR"}"#
        #expect(try await admin.send(method: .PUT, path: "/v1/artists/big/payout-settings", body: Data(big.utf8),
                                     headers: [("Content-Type", "application/json")]).status == 200)
        let lines = (1...9).map { "t\($0),,track-\($0),big,FR,Stream,1,9999999999999.99,EUR\n" }.joined()
        let statement = try JSONSerialization.data(withJSONObject: [
            "dsp": "spotify", "period": "2026-11",
            "statement": "SalesTransactionId,ResourceISRC,ContentId,ArtistId,Territory,UseType,Usages,NetRevenue,Currency\n" + lines])
        let imported = try await admin.post("/v1/statements", json: statement)
        #expect(imported.status == 201, "\(ControlHarness.errorMessage(imported))")
        func balance(_ account: String) throws -> Int64 { try harness.store.balance(try Account(parsing: account)) }
        let gross: Int64 = 9 * 999_999_999_999_999
        #expect(try balance("artist/big/EUR") == gross && gross > Currency.maximumMinorUnits)
        let response = try await admin.post("/v1/payout-runs", json: Self.body)
        #expect(response.status == 201, "\(ControlHarness.errorMessage(response))")
        let run = try Self.run(response)
        #expect(run.payouts == 2 && run.refused.isEmpty && run.gross == gross + 5_000, "\(run.refused)")
        let withheld = Withholding.split(gross: gross, rate: TaxRate(percent: "12.8")!).withheld
        #expect(try balance("artist/big/EUR") == 0 && balance("tax/FR/EUR") == withheld)
        #expect(try balance("payouts/in-flight/EUR") == gross - withheld + 3_500)
        let parts = try harness.store.entries(from: 0, to: harness.store.size).filter { $0.transfer.idempotencyKey.hasPrefix("payout:2026-11:EUR:big") }
        #expect(parts.count == 10 && parts.allSatisfy { $0.transfer.postings.allSatisfy { $0.amount <= Currency.maximumMinorUnits } })
        // Both are in flight, and each settles: the big one in all its parts at once.
        let page = try Views.decoder().decode(Views.PayoutRunPage.self, from: try await admin.get("/v1/payout-runs/2026-11-EUR").body)
        #expect(page.items.map { "\($0.artist) \($0.status)" } == ["big in_flight", "sol in_flight"])
        #expect(try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/sol/confirm", json: nil).status == 201)
        let confirmed = try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/big/confirm", json: nil)
        #expect(confirmed.status == 201, "\(ControlHarness.errorMessage(confirmed))")
        #expect(try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/big/confirm", json: nil).status == 200)
        #expect(try balance("external/sepa/EUR") == gross - withheld + 3_500 && balance("payouts/in-flight/EUR") == 0)
        // The artist's statement of the month adds up.
        let month = Month(containing: Int64(Date().timeIntervalSince1970))!
        let view = try Views.decoder().decode(Views.ArtistStatement.self,
                                              from: try await admin.get("/v1/artists/big/statement?period=\(month)").body)
        let total = try #require(view.totals.first)
        #expect(total.earned == gross && total.withheld == withheld && total.paid == gross - withheld && total.pending == 0 && total.closing == 0)
        #expect(try harness.store.verifyIntegrity().isIntact)
        await harness.stop()
    }

    @Test func badRequestsAndScopesAreRefused() async throws {
        let harness = try await ControlHarness(royalty: Self.settings)
        let admin = harness.client(harness.admin)
        for (body, field) in [(#"{"period":"2026-13","currency":"EUR"}"#, "period"), (#"{"period":"2026-11","currency":"XYZ"}"#, "currency"),
                              (#"{"period":"2026-11"}"#, "currency"), (#"{"period":"2026-11","currency":"EUR","dry_run":true}"#, "dry_run"),
                              (#"{"period":202611,"currency":"EUR"}"#, "period")] {
            let response = try await admin.post("/v1/payout-runs", json: Data(body.utf8))
            #expect(response.status == 400 && ControlHarness.errorMessage(response).contains(field), "\(body): \(ControlHarness.errorMessage(response))")
        }
        for token in [harness.artist, harness.node] {
            #expect(try await harness.client(token).post("/v1/payout-runs", json: Self.body).status == 403)
            #expect(try await harness.client(token).get("/v1/payout-runs/2026-11-EUR").status == 403)
            #expect(try await harness.client(token).post("/v1/payout-runs/2026-11-EUR/payouts/luna/confirm", json: nil).status == 403)
        }
        #expect(try await harness.client(nil).post("/v1/payout-runs", json: Self.body).status == 401)
        // Without withholding rates nothing is planned, and nothing is stored.
        let unconfigured = try await ControlHarness()
        let refused = try await unconfigured.client(unconfigured.admin).post("/v1/payout-runs", json: Self.body)
        #expect(refused.status == 409 && ControlHarness.errorCode(refused) == "no_tax_rates")
        #expect(try await unconfigured.client(unconfigured.admin).get("/v1/payout-runs/2026-11-EUR").status == 404)
        await unconfigured.stop()
        await harness.stop()
    }
}
