import Control
import Foundation
import Ledger
import Testing
import TestSupport

/// `POST /v1/subscriptions/payments` and `GET /v1/subscriptions/pool` over real HTTP: payments land in the pool of
/// their month once, pools are per month and currency, and bad payments are refused with their reason.
@Suite struct SubscriptionAPITests {
    static func payment(key: String, month: String = "2026-11", amount: Int64 = 999, currency: String = "EUR", extra: String = "") -> Data {
        Data(#"{"idempotency_key":"\#(key)","month":"\#(month)","amount":\#(amount),"currency":"\#(currency)","source":"stripe"\#(extra)}"#.utf8)
    }

    static func pool(_ admin: ControlClient, month: String, currency: String = "EUR") async throws -> Int? {
        let response = try await admin.get("/v1/subscriptions/pool?month=\(month)&currency=\(currency)")
        return response.status == 200 ? ControlHarness.json(response)["pool"] as? Int : nil
    }

    @Test func paymentsFillTheirMonthsPoolOnce() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        for (key, month, amount, currency) in [("in_1", "2026-11", 999, "EUR"), ("in_2", "2026-11", 1_001, "EUR"), ("in_3", "2026-12", 500, "EUR"),
                                               ("in_4", "2026-11", 700, "USD")] {
            let response = try await admin.post("/v1/subscriptions/payments", json: Self.payment(key: key, month: month, amount: Int64(amount),
                                                                                                   currency: currency))
            #expect(response.status == 201, "\(ControlHarness.errorMessage(response))")
        }
        let retry = try await admin.post("/v1/subscriptions/payments", json: Self.payment(key: "in_1", amount: 999))
        #expect(retry.status == 200 && ControlHarness.json(retry)["status"] as? String == "duplicate")
        let conflict = try await admin.post("/v1/subscriptions/payments", json: Self.payment(key: "in_1", amount: 5))
        #expect(conflict.status == 409)
        let entry = ControlHarness.json(retry)["entry"] as? [String: Any]
        #expect(entry?["kind"] as? String == "subscription" && entry?["idempotency_key"] as? String == "subscription:2026-11:in_1")
        #expect(try await Self.pool(admin, month: "2026-11") == 2_000)
        #expect(try await Self.pool(admin, month: "2026-12") == 500)
        #expect(try await Self.pool(admin, month: "2026-11", currency: "USD") == 700)
        #expect(try await Self.pool(admin, month: "2027-01") == 0)
        #expect(try harness.store.balance(Account(parsing: "platform/revenue/EUR")) == 2_500)
        let artist = harness.client(harness.artist)
        #expect(try await artist.get("/v1/subscriptions/pool?month=2026-11&currency=EUR").status == 403)
        #expect(try await artist.post("/v1/subscriptions/payments", json: Self.payment(key: "in_9")).status == 403)
        await harness.stop()
    }

    @Test func badPaymentsAndQueriesAreRefusedWithTheirReason() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        let cases: [(Data, String)] = [
            (Self.payment(key: "k", month: "2026-13"), "month: \"2026-13\" is not YYYY-MM"),
            (Self.payment(key: "k", month: "26-11"), "is not YYYY-MM"),
            (Self.payment(key: "k", amount: 0), "at least one minor unit"),
            (Self.payment(key: "k", currency: "EURO"), "EURO"),
            (Self.payment(key: String(repeating: "k", count: 108)), "1 to 107 bytes"),
            (Self.payment(key: "k", extra: #","subscriber":"me""#), "unknown field"),
            (Self.payment(key: "k", extra: #","memo":null"#), "memo"),
        ]
        for (body, message) in cases {
            let response = try await admin.post("/v1/subscriptions/payments", json: body)
            #expect(response.status == 400 && ControlHarness.errorMessage(response).contains(message),
                    "\(message): \(response.status) \(ControlHarness.errorMessage(response))")
        }
        for (query, message) in [("month=2026-11", "currency is required"), ("currency=EUR", "month is required"),
                                 ("month=2026-11&currency=XXX", "currency"), ("month=11-2026&currency=EUR", "month is required")] {
            let response = try await admin.get("/v1/subscriptions/pool?" + query)
            #expect(response.status == 400 && ControlHarness.errorMessage(response).contains(message), "\(query): \(ControlHarness.errorMessage(response))")
        }
        #expect(harness.store.size == 0)
        await harness.stop()
    }
}
