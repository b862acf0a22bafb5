import Control
import Foundation
import Testing

/// `docs/control-api.openapi.json` describes exactly the routes the router serves, and live answers have the
/// documented shapes (required fields present, no undocumented fields, JSON types as declared).
@Suite struct OpenAPIDocumentTests {
    nonisolated(unsafe) static let document: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/control-api.openapi.json")
        let data = (try? Data(contentsOf: url)) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }()

    static var paths: [String: [String: Any]] { document["paths"] as? [String: [String: Any]] ?? [:] }

    @Test func theDocumentListsExactlyTheRouterRoutes() {
        #expect(Self.document["openapi"] as? String == "3.1.0")
        var documented: Set<String> = []
        for (path, operations) in Self.paths {
            for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
        }
        let served = Set(ControlAPI.routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(documented == served, "only documented: \(documented.subtracting(served)); only served: \(served.subtracting(documented))")
        for (path, operations) in Self.paths {
            for (method, operation) in operations {
                let responses = (operation as? [String: Any])?["responses"] as? [String: Any] ?? [:]
                #expect(responses["401"] != nil && responses["403"] != nil, "\(method) \(path) must document 401 and 403")
            }
        }
    }

    /// Checks `value` against a schema of the document; returns the problems found.
    static func problems(_ value: Any, schema: [String: Any], at path: String) -> [String] {
        if let reference = schema["$ref"] as? String {
            let name = String(reference.split(separator: "/").last ?? "")
            let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
            guard let resolved = schemas?[name] as? [String: Any] else { return ["\(path): unresolved \(reference)"] }
            return problems(value, schema: resolved, at: path)
        }
        let types: [String] = (schema["type"] as? [String]) ?? [(schema["type"] as? String) ?? "any"]
        func matches(_ type: String) -> Bool {
            switch type {
            case "object": value is [String: Any]
            case "array": value is [Any]
            case "string": value is String
            case "integer": value is NSNumber && !isBoolean(value) && !"\(value)".contains(where: { $0 == "." || $0 == "e" })
            case "boolean": isBoolean(value)
            case "null": value is NSNull
            default: true
            }
        }
        guard types.contains(where: matches) else { return ["\(path): \(type(of: value)) is not \(types.joined(separator: "|"))"] }
        var found: [String] = []
        if let object = value as? [String: Any], let properties = schema["properties"] as? [String: [String: Any]] {
            for required in schema["required"] as? [String] ?? [] where object[required] == nil {
                found.append("\(path).\(required): required but missing")
            }
            for (key, member) in object {
                guard let property = properties[key] else {
                    found.append("\(path).\(key): not in the document")
                    continue
                }
                found += problems(member, schema: property, at: "\(path).\(key)")
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, item) in array.prefix(20).enumerated() { found += problems(item, schema: items, at: "\(path)[\(index)]") }
        }
        if let choices = schema["enum"] as? [String], let text = value as? String, !choices.contains(text) {
            found.append("\(path): \"\(text)\" not in \(choices)")
        }
        return found
    }

    /// Booleans come out of JSONSerialization as numbers; tell them apart by their textual form.
    static func isBoolean(_ value: Any) -> Bool {
        value is NSNumber && String(describing: type(of: value)).contains("Boolean")
    }

    /// The documented schema of `method path`'s answer with `status`.
    static func responseSchema(_ method: String, _ path: String, _ status: Int) -> [String: Any]? {
        let operation = Self.paths[path]?[method.lowercased()] as? [String: Any]
        var response = (operation?["responses"] as? [String: Any])?[String(status)] as? [String: Any]
        if let reference = response?["$ref"] as? String {
            let name = String(reference.split(separator: "/").last ?? "")
            response = ((document["components"] as? [String: Any])?["responses"] as? [String: Any])?[name] as? [String: Any]
        }
        let content = response?["content"] as? [String: Any]
        return (content?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
    }

    @Test func liveAnswersHaveTheDocumentedShapes() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        var checked = 0
        func check(_ method: String, _ template: String, _ path: String, _ response: ControlClient.Response) throws {
            let schema = Self.responseSchema(method, template, response.status)
            #expect(schema != nil, "\(method) \(template) → \(response.status) is not documented")
            guard let schema else { return }
            let value = try JSONSerialization.jsonObject(with: response.body, options: [.fragmentsAllowed])
            let found = Self.problems(value, schema: schema, at: "\(method) \(path)")
            #expect(found.isEmpty, "\(found)")
            checked += 1
        }
        try check("GET", "/v1/checkpoint", "/v1/checkpoint", try await admin.get("/v1/checkpoint"))
        for index in 0..<5 {
            let path = "/v1/transfers"
            try check("POST", path, path, try await admin.post(path, json: ControlHarness.royalty(key: "k\(index)")))
        }
        try check("POST", "/v1/transfers", "/v1/transfers", try await admin.post("/v1/transfers", json: ControlHarness.royalty(key: "k0")))
        try check("POST", "/v1/transfers", "/v1/transfers", try await admin.post("/v1/transfers", json: ControlHarness.royalty(key: "k0", amount: 7)))
        try check("POST", "/v1/transfers", "/v1/transfers", try await admin.post("/v1/transfers", json: Data("{}".utf8)))
        try check("POST", "/v1/checkpoints", "/v1/checkpoints", try await admin.post("/v1/checkpoints", json: nil))
        let reads: [(String, String)] = [
            ("/v1/checkpoint", "/v1/checkpoint"),
            ("/v1/entries", "/v1/entries?start=0"),
            ("/v1/proofs/inclusion", "/v1/proofs/inclusion?index=3"),
            ("/v1/proofs/consistency", "/v1/proofs/consistency?first=2"),
            ("/v1/balances", "/v1/balances"),
            ("/v1/accounts/{kind}/{detail}/{currency}", "/v1/accounts/artist/luna/EUR?limit=2"),
            ("/v1/export", "/v1/export"),
            ("/v1/artists/{artist}/receipt", "/v1/artists/luna/receipt"),
            ("/v1/integrity", "/v1/integrity"),
            ("/v1/entries", "/v1/entries?start=x"),
        ]
        for (template, path) in reads { try check("GET", template, path, try await admin.get(path)) }
        try check("GET", "/v1/integrity", "/v1/integrity", try await harness.client(nil).get("/v1/integrity"))
        try check("GET", "/v1/integrity", "/v1/integrity", try await harness.client(harness.artist).get("/v1/integrity"))
        #expect(checked == 22)
        await harness.stop()
    }

    @Test func payoutRunAnswersHaveTheDocumentedShapes() async throws {
        let harness = try await ControlHarness(royalty: PayoutRunAPITests.settings)
        try await PayoutRunAPITests.artist(harness, "luna", balance: 10_001, country: "FR")
        try await PayoutRunAPITests.artist(harness, "tiny", balance: 10, country: "FR")
        let admin = harness.client(harness.admin)
        var checked = 0
        func check(_ method: String, _ template: String, _ response: ControlClient.Response) throws {
            let schema = Self.responseSchema(method, template, response.status)
            #expect(schema != nil, "\(method) \(template) → \(response.status) is not documented")
            guard let schema else { return }
            let found = Self.problems(try JSONSerialization.jsonObject(with: response.body), schema: schema, at: "\(method) \(template)")
            #expect(found.isEmpty, "\(found)")
            checked += 1
        }
        try check("POST", "/v1/payout-runs", try await admin.post("/v1/payout-runs", json: PayoutRunAPITests.body))
        try check("POST", "/v1/payout-runs", try await admin.post("/v1/payout-runs", json: PayoutRunAPITests.body))
        try check("POST", "/v1/payout-runs", try await admin.post("/v1/payout-runs", json: Data("{}".utf8)))
        try check("GET", "/v1/payout-runs/{run}", try await admin.get("/v1/payout-runs/2026-11-EUR"))
        try check("GET", "/v1/payout-runs/{run}", try await admin.get("/v1/payout-runs/2026-01-EUR"))
        try check("GET", "/v1/payout-runs/{run}/files/{method}", try await admin.get("/v1/payout-runs/2026-11-EUR/files/csv"))
        try check("POST", "/v1/payout-runs/{run}/payouts/{artist}/confirm", try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/luna/confirm", json: nil))
        try check("POST", "/v1/payout-runs/{run}/payouts/{artist}/fail", try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/luna/fail", json: nil))
        try check("POST", "/v1/payout-runs/{run}/payouts/{artist}/fail", try await admin.post("/v1/payout-runs/2026-11-EUR/payouts/tiny/fail", json: nil))
        let sepa = try await admin.get("/v1/payout-runs/2026-11-EUR/files/sepa")
        let operation = Self.paths["/v1/payout-runs/{run}/files/{method}"]?["get"] as? [String: Any]
        let documented = ((operation?["responses"] as? [String: Any])?["200"] as? [String: Any])?["content"] as? [String: Any]
        #expect(sepa.status == 200 && documented?[sepa.headers["content-type"] ?? ""] != nil)
        #expect(checked == 9)
        await harness.stop()
    }
}
