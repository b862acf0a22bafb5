import Control
import Foundation
import Testing
import TestSupport

/// `PUT`/`GET /v1/artists/{artist}/payout-settings` over real HTTP: set by admins, read by admins and the artist
/// itself, replaced as a whole, validated (IBAN checksum, BIC, method fields, tax country, SEPA only in EUR).
@Suite struct PayoutSettingsAPITests {
    static let sepa = Data(#"{"method":"sepa","account_name":"Luna Díaz","iban":"de89 3704 0044 0532 0130 00","bic":"COBADEFFXXX","minimum":2500,"currency":"EUR","tax_country":"DE"}"#.utf8)

    @Test func settingsAreSetByAdminsAndReadByTheArtist() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        let missing = try await admin.get("/v1/artists/luna/payout-settings")
        #expect(missing.status == 404 && ControlHarness.errorMessage(missing).contains("not paid out"))
        let set = try await admin.send(method: .PUT, path: "/v1/artists/luna/payout-settings", body: Self.sepa)
        #expect(set.status == 200, "\(ControlHarness.errorMessage(set))")
        let own = ControlHarness.json(try await harness.client(harness.artist).get("/v1/artists/luna/payout-settings"))
        #expect(own["iban"] as? String == "DE89370400440532013000" && own["method"] as? String == "sepa" && own["minimum"] as? Int == 2_500)
        #expect(own["tax_country"] as? String == "DE" && own["reference"] == nil)
        #expect(try await harness.client(harness.otherArtist).get("/v1/artists/luna/payout-settings").status == 403)
        #expect(try await harness.client(harness.artist).send(method: .PUT, path: "/v1/artists/luna/payout-settings", body: Self.sepa).status == 403,
                "an artist reads its settings but does not change them")
        let manual = Data(#"{"method":"csv","account_name":"Luna","reference":"USDC 0x5290","minimum":0,"currency":"USD","tax_country":"US"}"#.utf8)
        #expect(try await admin.send(method: .PUT, path: "/v1/artists/luna/payout-settings", body: manual).status == 200)
        let replaced = ControlHarness.json(try await admin.get("/v1/artists/luna/payout-settings"))
        #expect(replaced["method"] as? String == "csv" && replaced["iban"] == nil && replaced["reference"] as? String == "USDC 0x5290")
        await harness.stop()
    }

    @Test func badSettingsAreRefusedWithTheirReason() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        func body(_ changes: [String: Any?]) -> Data {
            var fields = try! JSONSerialization.jsonObject(with: Self.sepa) as! [String: Any]
            for (key, value) in changes { fields[key] = value }
            return try! JSONSerialization.data(withJSONObject: fields)
        }
        let cases: [(Data, String)] = [
            (body(["iban": "DE89370400440532013001"]), "check digits do not match"),
            (body(["bic": "COBA"]), "bic"),
            (body(["currency": "USD"]), "SEPA payouts are in EUR"),
            (body(["tax_country": "Germany"]), "tax_country"),
            (body(["method": "paypal"]), "is not sepa or csv"),
            (body(["reference": "x"]), "only for method csv"),
            (body(["minimum": -1]), "minimum"),
            (body(["account_name": ""]), "account_name"),
            (body(["extra": 1]), "unknown field"),
            (Data(#"{"method":"csv","account_name":"L","minimum":0,"currency":"USD","tax_country":"US"}"#.utf8), "reference is required"),
        ]
        for (data, message) in cases {
            let response = try await admin.send(method: .PUT, path: "/v1/artists/luna/payout-settings", body: data)
            #expect(response.status == 400 && ControlHarness.errorMessage(response).contains(message),
                    "\(message): \(response.status) \(ControlHarness.errorMessage(response))")
        }
        #expect(try await admin.get("/v1/artists/luna/payout-settings").status == 404, "nothing was stored")
        await harness.stop()
    }
}
