import Control
import Foundation
import Ledger
import Testing
import TestSupport

/// `POST /v1/tips` over real HTTP: the tip split exactly between artist and platform by the configured share, once per
/// payment key, admins only, and a precise 400 for every bad body.
@Suite struct TipAPITests {
    static func tip(key: String = "pi_1", artist: String = "luna", amount: Int64 = 1_001, currency: String = "EUR",
                    extra: String = "") -> Data {
        Data(#"{"idempotency_key":"\#(key)","artist":"\#(artist)","amount":\#(amount),"currency":"\#(currency)","source":"stripe"\#(extra)}"#.utf8)
    }

    @Test func aTipIsSplitExactlyAndRecordedOnce() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        let first = try await admin.post("/v1/tips", json: Self.tip(extra: #","memo":"for the encore""#))
        #expect(first.status == 201, "\(ControlHarness.errorMessage(first))")
        // 1001 × 90 % = 900.9 and 100.1: the artist's larger remainder takes the leftover unit.
        #expect(try harness.store.balance(Account(parsing: "artist/luna/EUR")) == 901)
        #expect(try harness.store.balance(Account(parsing: "platform/revenue/EUR")) == 100)
        #expect(try harness.store.balance(Account(parsing: "external/stripe/EUR")) == -1_001)
        let entry = ControlHarness.json(first)["entry"] as? [String: Any]
        #expect(entry?["kind"] as? String == "tip" && entry?["idempotency_key"] as? String == "tip:pi_1" && entry?["memo"] as? String == "for the encore")
        let retry = try await admin.post("/v1/tips", json: Self.tip(extra: #","memo":"for the encore""#))
        #expect(retry.status == 200 && ControlHarness.json(retry)["status"] as? String == "duplicate")
        let conflict = try await admin.post("/v1/tips", json: Self.tip(amount: 2_000))
        #expect(conflict.status == 409 && ControlHarness.errorCode(conflict) == "idempotency_conflict")
        #expect(harness.store.size == 1)
        for token in [harness.artist, harness.node] {
            let forbidden = try await harness.client(token).post("/v1/tips", json: Self.tip(key: "pi_2"))
            #expect(forbidden.status == 403)
        }
        await harness.stop()
    }

    @Test func theShareIsConfigurable() async throws {
        let harness = try await ControlHarness(royalty: RoyaltySettings(tipArtistShareBasisPoints: 10_000))
        let response = try await harness.client(harness.admin).post("/v1/tips", json: Self.tip(amount: 7))
        #expect(response.status == 201)
        #expect(try harness.store.balance(Account(parsing: "artist/luna/EUR")) == 7)
        #expect(try harness.store.balance(Account(parsing: "platform/revenue/EUR")) == 0, "no zero posting either")
        await harness.stop()
    }

    @Test func badTipsAreRefusedWithTheirReason() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        let cases: [(Data, String)] = [
            (Self.tip(amount: 0), "at least one minor unit"),
            (Self.tip(amount: -5), "at least one minor unit"),
            (Data(#"{"idempotency_key":"k","artist":"luna","amount":1.5,"currency":"EUR","source":"stripe"}"#.utf8), "whole number of minor units"),
            (Self.tip(currency: "XYZ"), "XYZ"),
            (Self.tip(artist: "Luna/EUR"), "Luna/EUR"),
            (Self.tip(extra: #","tip":1"#), "unknown field"),
            (Data(#"{"idempotency_key":"k","artist":"luna","amount":5,"currency":"EUR"}"#.utf8), "source is required"),
            (Self.tip(key: String(repeating: "k", count: 125)), "1 to 124 bytes"),
            (Self.tip(key: ""), "idempotency_key: 1 to 124 bytes"),
            (Self.tip(key: "has space"), "printable ASCII"),
        ]
        for (body, message) in cases {
            let response = try await admin.post("/v1/tips", json: body)
            #expect(response.status == 400 && ControlHarness.errorMessage(response).contains(message),
                    "\(message): \(response.status) \(ControlHarness.errorMessage(response))")
        }
        #expect(harness.store.size == 0)
        await harness.stop()
    }
}
