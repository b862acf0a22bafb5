import Control
import Foundation
import Testing
import TestSupport

/// `POST /v1/splits` and `GET /v1/splits` over real HTTP: versioned per content, idempotent, conflicts and bad rules
/// refused with their reason, admins only.
@Suite struct SplitRuleAPITests {
    static func rule(content: String = "song-1", from day: String = "2026-12-01", shares: [(String, Int)] = [("luna", 6_000), ("sol", 4_000)],
                     extra: String = "") -> Data {
        let list = shares.map { #"{"artist":"\#($0.0)","basis_points":\#($0.1)}"# }.joined(separator: ",")
        return Data(#"{"content":"\#(content)","effective_from":"\#(day)","shares":[\#(list)]\#(extra)}"#.utf8)
    }

    @Test func rulesAreStoredOncePerDayAndListedInOrder() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        let later = try await admin.post("/v1/splits", json: Self.rule(from: "2027-01-01", shares: [("luna", 10_000)]))
        #expect(later.status == 201, "\(ControlHarness.errorMessage(later))")
        #expect(try await admin.post("/v1/splits", json: Self.rule()).status == 201)
        #expect(try await admin.post("/v1/splits", json: Self.rule()).status == 200, "the same rule again changes nothing")
        let conflict = try await admin.post("/v1/splits", json: Self.rule(shares: [("luna", 5_000), ("sol", 5_000)]))
        #expect(conflict.status == 409 && ControlHarness.errorMessage(conflict).contains("2026-12-01"))
        #expect(try await admin.post("/v1/splits", json: Self.rule(content: "song-2")).status == 201)
        let listed = ControlHarness.json(try await admin.get("/v1/splits?content=song-1"))["rules"] as? [[String: Any]] ?? []
        #expect(listed.map { $0["effective_from"] as? String } == ["2026-12-01", "2027-01-01"])
        let shares = listed.first?["shares"] as? [[String: Any]]
        #expect(shares?.map { $0["artist"] as? String } == ["luna", "sol"] && shares?.map { $0["basis_points"] as? Int } == [6_000, 4_000])
        #expect((ControlHarness.json(try await admin.get("/v1/splits"))["rules"] as? [Any])?.count == 3)
        #expect(try await harness.client(harness.artist).post("/v1/splits", json: Self.rule(from: "2028-01-01")).status == 403)
        #expect(try await harness.client(harness.node).get("/v1/splits").status == 403)
        await harness.stop()
    }

    @Test func badRulesAreRefusedWithTheirReason() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        let cases: [(Data, String)] = [
            (Self.rule(shares: [("luna", 6_000), ("sol", 3_999)]), "sum to 9999"),
            (Self.rule(shares: [("luna", 5_000), ("luna", 5_000)]), "luna has two shares"),
            (Self.rule(shares: []), "at least one share"),
            (Self.rule(shares: [("luna", 0), ("sol", 10_000)]), "basis_points: 0"),
            (Self.rule(shares: [("Luna!", 10_000)]), "is not an artist id"),
            (Self.rule(from: "2026-02-30"), "is not a day"),
            (Self.rule(from: "1999-12-31"), "is not a day"),
            (Self.rule(content: ".hidden"), "content"),
            (Self.rule(extra: #","note":"x""#), "unknown field"),
            (Self.rule(shares: (0..<64).map { ("a\($0)", $0 < 16 ? 157 : 156) }), "64 shares"),
        ]
        for (body, message) in cases {
            let response = try await admin.post("/v1/splits", json: body)
            #expect(response.status == 400 && ControlHarness.errorMessage(response).contains(message),
                    "\(message): \(response.status) \(ControlHarness.errorMessage(response))")
        }
        #expect((ControlHarness.json(try await admin.get("/v1/splits"))["rules"] as? [Any])?.isEmpty == true)
        let badQuery = try await admin.get("/v1/splits?content=.hidden")
        #expect(badQuery.status == 400 && ControlHarness.errorMessage(badQuery).contains("is not a content id"))
        await harness.stop()
    }
}
