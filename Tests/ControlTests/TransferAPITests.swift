import Control
import Foundation
import NIOHTTP1
import Ledger
import Testing
import TestSupport

/// `POST /v1/transfers` over real HTTP: exactly-once keys, refusals, and precise 400s for every kind of bad body.
@Suite struct TransferAPITests {
    @Test func aTransferIsCommittedOnceAndARetryReturnsTheOriginal() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        let first = try await admin.post("/v1/transfers", json: ControlHarness.royalty(key: "dsr-1"))
        #expect(first.status == 201, "\(ControlHarness.errorMessage(first))")
        let entry = ControlHarness.json(first)["entry"] as? [String: Any]
        #expect(ControlHarness.json(first)["status"] as? String == "committed")
        #expect(entry?["index"] as? Int == 0)
        let retry = try await admin.post("/v1/transfers", json: ControlHarness.royalty(key: "dsr-1"))
        #expect(retry.status == 200)
        #expect(ControlHarness.json(retry)["status"] as? String == "duplicate")
        #expect((ControlHarness.json(retry)["entry"] as? [String: Any])?["leaf_hash"] as? String == entry?["leaf_hash"] as? String)
        let conflict = try await admin.post("/v1/transfers", json: ControlHarness.royalty(key: "dsr-1", amount: 999))
        #expect(conflict.status == 409 && ControlHarness.errorCode(conflict) == "idempotency_conflict")
        #expect(harness.store.size == 1)
        #expect(try harness.store.balance(Account(parsing: "artist/luna/EUR")) == 1_000)
        await harness.stop()
    }

    @Test func refusalsAreNamed() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        // Paying out more than an artist holds would make a protected account negative: 422, nothing written.
        let overdraw = Data("""
            {"idempotency_key":"payout-1","kind":"payout","postings":[
            {"account":"artist/luna/EUR","side":"debit","amount":5},{"account":"payouts/in-flight/EUR","side":"credit","amount":5}]}
            """.utf8)
        let refused = try await admin.post("/v1/transfers", json: overdraw)
        #expect(refused.status == 422 && ControlHarness.errorCode(refused) == "insufficient_funds", "\(ControlHarness.errorMessage(refused))")
        #expect(ControlHarness.errorMessage(refused).contains("artist/luna/EUR"))
        #expect(harness.store.size == 0)
        // A node moves no money, whatever the key.
        let node = harness.client(harness.node)
        for key in ["dsr-2", "node/edge-1/views-0001"] {
            let refused = try await node.post("/v1/transfers", json: ControlHarness.royalty(key: key))
            #expect(refused.status == 403 && ControlHarness.errorCode(refused) == "insufficient_scope", "\(key): \(refused.status)")
        }
        #expect(harness.store.size == 0)
        // Wrong media type, oversized body.
        let text = try await admin.send(method: .POST, path: "/v1/transfers", body: nil, headers: [("Content-Type", "text/plain"), ("Content-Length", "2")])
        #expect(text.status == 415)
        let huge = Data(("{\"memo\":\"" + String(repeating: "x", count: ControlAPI.maximumBodyBytes) + "\"}").utf8)
        let tooLarge = try await admin.post("/v1/transfers", json: huge)
        #expect(tooLarge.status == 413 && ControlHarness.errorCode(tooLarge) == "body_too_large")
        await harness.stop()
    }

    /// A client that stops in the middle of its body is disconnected after the idle timeout (1 s here), and nothing is
    /// committed.
    @Test func aStalledBodyIsCutOff() async throws {
        let harness = try await ControlHarness(idleTimeout: .seconds(1))
        let connection = try RawHTTPConnection(host: harness.host, port: harness.port, timeout: 10)
        try connection.send("POST /v1/transfers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(harness.admin)\r\n"
            + "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"idempotency_key\":")
        let start = Date()
        #expect(connection.waitForClose())
        #expect(Date().timeIntervalSince(start) < 9, "closed by the idle timeout, not the client's 10 s receive timeout")
        #expect(harness.store.size == 0)
        await harness.stop()
    }

    static let badBodies: [(body: String, message: String)] = [
        ("", "not valid JSON"),
        ("[1,2]", "body"),
        ("{\"kind\":\"royalty\",\"postings\":[]}", "idempotency_key is required"),
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"postings\":[],\"extra\":1}", "extra: unknown field"),
        ("{\"idempotency_key\":\"k\",\"kind\":\"gift\",\"postings\":[]}", "kind: \"gift\" is not one of"),
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"postings\":[{\"account\":\"artist/a/EUR\",\"side\":\"debit\",\"amount\":1.5}]}",
         "postings[0].amount"),
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"postings\":[{\"account\":\"artist/a/EUR\",\"side\":\"debit\",\"amount\":\"10\"}]}",
         "postings[0].amount: expected an integer"),
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"postings\":[{\"account\":\"artist/a/XXX\",\"side\":\"debit\",\"amount\":1},"
            + "{\"account\":\"artist/b/EUR\",\"side\":\"credit\",\"amount\":1}]}", "postings[0].account: unknown currency"),
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"postings\":[{\"account\":\"artist/a/EUR\",\"side\":\"up\",\"amount\":1},"
            + "{\"account\":\"artist/b/EUR\",\"side\":\"credit\",\"amount\":1}]}", "postings[0].side must be"),
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"postings\":[{\"account\":\"external/a/EUR\",\"side\":\"debit\",\"amount\":2},"
            + "{\"account\":\"artist/b/EUR\",\"side\":\"credit\",\"amount\":1}]}", "do not balance"),
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"postings\":[{\"account\":\"external/a/EUR\",\"side\":\"debit\",\"amount\":-1},"
            + "{\"account\":\"artist/b/EUR\",\"side\":\"credit\",\"amount\":-1}]}", "outside 1..."),
        ("{\"idempotency_key\":\"has space\",\"kind\":\"royalty\",\"postings\":[{\"account\":\"external/a/EUR\",\"side\":\"debit\",\"amount\":1},"
            + "{\"account\":\"artist/b/EUR\",\"side\":\"credit\",\"amount\":1}]}", "idempotency key must be"),
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"postings\":[{\"account\":\"external/a/EUR\",\"side\":\"debit\",\"amount\":99999999999999999999},"
            + "{\"account\":\"artist/b/EUR\",\"side\":\"credit\",\"amount\":1}]}", "postings[0].amount"),
        // Identifiers become paths and account names: no dot-segments, nothing starting with punctuation.
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"postings\":[{\"account\":\"external/a/EUR\",\"side\":\"debit\",\"amount\":1},"
            + "{\"account\":\"artist/../EUR\",\"side\":\"credit\",\"amount\":1}]}", "postings[1].account: invalid account: \"..\""),
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"postings\":[{\"account\":\"external/-x/EUR\",\"side\":\"debit\",\"amount\":1},"
            + "{\"account\":\"artist/b/EUR\",\"side\":\"credit\",\"amount\":1}]}", "postings[0].account"),
        // A field said twice is refused, not silently read once.
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"kind\":\"payout\",\"postings\":[]}", "body: the field \"kind\" appears twice"),
        ("{\"idempotency_key\":\"k\",\"kind\":\"royalty\",\"postings\":[{\"account\":\"external/a/EUR\",\"side\":\"debit\",\"amount\":1},"
            + "{\"account\":\"artist/b/EUR\",\"amount\":1,\"side\":\"credit\",\"amount\":5}]}", "postings[1]: the field \"amount\" appears twice"),
    ]

    /// A known path with a method it does not take: 405 with `Allow` (after authentication), not 404.
    @Test func otherMethodsOnKnownPathsAre405WithAllow() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        for (method, path, allow) in [(HTTPMethod.RAW(value: "TRACE"), "/v1/transfers", "POST"), (.GET, "/v1/transfers", "POST"),
                                      (.DELETE, "/v1/checkpoint", "GET, HEAD"), (.PUT, "/v1/accounts/artist/luna/EUR", "GET, HEAD"),
                                      (.PATCH, "/v1/checkpoints", "POST")] {
            let response = try await admin.send(method: method, path: path, body: nil)
            #expect(response.status == 405 && ControlHarness.errorCode(response) == "method_not_allowed", "\(method) \(path): \(response.status)")
            #expect(response.headers["allow"] == allow, "\(method) \(path): \(response.headers)")
        }
        #expect(try await admin.send(method: .GET, path: "/v1/nothing-here", body: nil).status == 404)
        #expect(try await harness.client(nil).send(method: .RAW(value: "TRACE"), path: "/v1/transfers", body: nil).status == 401)
        await harness.stop()
    }

    @Test func badBodiesGetPrecise400s() async throws {
        let harness = try await ControlHarness()
        let admin = harness.client(harness.admin)
        for (body, message) in Self.badBodies {
            let response = try await admin.post("/v1/transfers", json: Data(body.utf8))
            #expect(response.status == 400, "\(body)")
            #expect(ControlHarness.errorMessage(response).contains(message), "\(body) → \(ControlHarness.errorMessage(response))")
        }
        let query = try await admin.post("/v1/transfers?dry_run=1", json: ControlHarness.royalty(key: "q"))
        #expect(query.status == 400 && ControlHarness.errorMessage(query).contains("unknown query parameter \"dry_run\""))
        #expect(harness.store.size == 0)
        await harness.stop()
    }
}
