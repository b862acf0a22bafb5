import Control
import Foundation
import Ledger
import Testing

/// Every route, without a token, with a bad one, a revoked one, and with each scope it does not admit.
@Suite struct AuthTests {
    /// A concrete request path for a route (placeholders filled with data the artist token does not own where that
    /// matters: the route must still refuse on scope, before looking).
    static func path(_ route: ControlRoute, artist: String = "luna") -> String {
        route.path.replacingOccurrences(of: "{kind}", with: "artist").replacingOccurrences(of: "{detail}", with: artist)
            .replacingOccurrences(of: "{currency}", with: "EUR").replacingOccurrences(of: "{artist}", with: artist)
            .replacingOccurrences(of: "{run}", with: "2026-11-EUR").replacingOccurrences(of: "{method}", with: "csv")
            .replacingOccurrences(of: "{dsp}", with: "spotify").replacingOccurrences(of: "{period}", with: "2026-11")
    }

    @Test func everyRouteWantsAValidToken() async throws {
        let harness = try await ControlHarness()
        let revoked = harness.admin
        #expect(try harness.store.revokeTokens(digestPrefix: BearerToken.digest(revoked), at: 1) == 1)
        let credentials: [(header: String?, why: String)] = [
            (nil, "no token"),
            ("Basic YWRtaW46YWRtaW4=", "wrong scheme"),
            ("Bearer not-a-token", "malformed"),
            ("Bearer " + BearerToken.generate(), "unknown"),
            ("Bearer " + revoked, "revoked"),
        ]
        for route in ControlAPI.routes {
            for (header, why) in credentials {
                let response = try await harness.client(nil).send(
                    method: .init(rawValue: route.method.rawValue), path: Self.path(route),
                    body: route.method == .post ? ControlHarness.royalty(key: "auth") : nil,
                    headers: header.map { [("Authorization", $0)] } ?? [])
                #expect(response.status == 401, "\(route.method) \(route.path) with \(why): \(response.status)")
                #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer realm=\"edgenode-control\"") == true)
            }
        }
        // Unknown paths say 401 too, so routes cannot be discovered without a token.
        #expect(try await harness.client(nil).get("/v1/secret").status == 401)
        #expect(try await harness.client(harness.artist).get("/v1/secret").status == 404)
        #expect(harness.store.size == 0)
        await harness.stop()
    }

    @Test func everyRouteRefusesTheScopesItDoesNotAdmit() async throws {
        let harness = try await ControlHarness()
        _ = try await harness.client(harness.admin).post("/v1/transfers", json: ControlHarness.royalty(key: "seed"))
        _ = try await harness.client(harness.admin).post("/v1/checkpoints", json: nil)
        var refusals = 0
        for route in ControlAPI.routes {
            for (token, scope) in [(harness.artist, Scope.artist("luna")), (harness.node, Scope.node("edge-1"))] where !route.admits(scope) {
                let response = try await harness.client(token).send(
                    method: .init(rawValue: route.method.rawValue), path: Self.path(route),
                    body: route.method == .post ? ControlHarness.royalty(key: "node/edge-1/x") : nil)
                #expect(response.status == 403, "\(route.method) \(route.path) as \(scope): \(response.status)")
                #expect(ControlHarness.errorCode(response) == "insufficient_scope")
                refusals += 1
            }
        }
        #expect(refusals >= 30)
        #expect(ControlAPI.routes.allSatisfy { !Self.path($0).contains("{") }, "every placeholder is filled")
        // An artist admitted to a route still only sees its own data.
        let artist = harness.client(harness.artist)
        for path in ["/v1/accounts/artist/sol/EUR", "/v1/accounts/platform/revenue/EUR", "/v1/artists/sol/receipt", "/v1/balances?prefix=artist/sol/"] {
            let response = try await artist.get(path)
            #expect(response.status == 403, "\(path): \(response.status)")
        }
        for path in ["/v1/accounts/artist/luna/EUR", "/v1/artists/luna/receipt", "/v1/balances", "/v1/checkpoint", "/v1/proofs/inclusion?index=0"] {
            let response = try await artist.get(path)
            #expect(response.status == 200, "\(path): \(response.status) \(ControlHarness.errorMessage(response))")
        }
        #expect(harness.store.size == 1)
        await harness.stop()
    }
}

/// The scope matrix, written out here independently of `ControlRoute.access`: least privilege for every route and
/// every kind of scope, checked against live answers and against the README's table.
@Suite struct ScopeMatrixTests {
    /// Who may call a route besides an admin (who may call every route).
    enum Grant: String {
        case no, own, yes
    }

    /// Per route (`METHOD path`): what an artist token and a node token may do. A node posts its own delivery reports
    /// and nothing else; an artist reads its own data and the log's public facts.
    static let matrix: [String: (artist: Grant, node: Grant)] = [
        "POST /v1/transfers": (.no, .no),
        "POST /v1/tips": (.no, .no),
        "POST /v1/subscriptions/payments": (.no, .no),
        "GET /v1/subscriptions/pool": (.no, .no),
        "POST /v1/splits": (.no, .no),
        "GET /v1/splits": (.no, .no),
        "PUT /v1/artists/{artist}/payout-settings": (.no, .no),
        "GET /v1/artists/{artist}/payout-settings": (.own, .no),
        "POST /v1/payout-runs": (.no, .no),
        "GET /v1/payout-runs/{run}": (.no, .no),
        "GET /v1/payout-runs/{run}/files/{method}": (.no, .no),
        "POST /v1/payout-runs/{run}/payouts/{artist}/confirm": (.no, .no),
        "POST /v1/payout-runs/{run}/payouts/{artist}/fail": (.no, .no),
        "POST /v1/statements": (.no, .no),
        "GET /v1/statements/{dsp}/{period}": (.no, .no),
        "GET /v1/artists/{artist}/statement": (.own, .no),
        "POST /v1/reports/deliveries": (.no, .own),
        "GET /v1/views/{period}": (.no, .no),
        "POST /v1/views/{period}/close": (.no, .no),
        "GET /v1/checkpoint": (.yes, .no),
        "POST /v1/checkpoints": (.no, .no),
        "GET /v1/entries": (.no, .no),
        "GET /v1/proofs/inclusion": (.yes, .no),
        "GET /v1/proofs/consistency": (.yes, .no),
        "GET /v1/balances": (.own, .no),
        "GET /v1/accounts/{kind}/{detail}/{currency}": (.own, .no),
        "GET /v1/export": (.no, .no),
        "GET /v1/artists/{artist}/receipt": (.own, .no),
        "GET /v1/integrity": (.no, .no),
    ]

    static func name(_ route: ControlRoute) -> String { "\(route.method) \(route.path)" }

    @Test func everyRouteAnswersEveryScopeKindByTheMatrix() async throws {
        let harness = try await ControlHarness()
        _ = try await harness.client(harness.admin).post("/v1/transfers", json: ControlHarness.royalty(key: "seed"))
        _ = try await harness.client(harness.admin).post("/v1/checkpoints", json: nil)
        #expect(Set(ControlAPI.routes.map(Self.name)) == Set(Self.matrix.keys), "the matrix names every route, and only routes")
        for route in ControlAPI.routes {
            let grants = try #require(Self.matrix[Self.name(route)])
            for (token, kind, grant) in [(harness.admin, "admin", Grant.yes), (harness.artist, "artist:luna", grants.artist),
                                         (harness.node, "node:edge-1", grants.node)] {
                let response = try await harness.client(token).send(
                    method: .init(rawValue: route.method.rawValue), path: AuthTests.path(route),
                    body: route.method == .get ? nil : ControlHarness.royalty(key: "node/edge-1/matrix"))
                let what = "\(Self.name(route)) as \(kind): \(response.status) \(ControlHarness.errorMessage(response))"
                #expect(response.status != 401, "\(what)")
                if grant == .no {
                    #expect(response.status == 403 && ControlHarness.errorCode(response) == "insufficient_scope", "\(what)")
                } else {
                    #expect(response.status != 403, "\(what)")
                }
            }
            // The other artist: refused where an artist may only act for itself, admitted where any artist may.
            let path = AuthTests.path(route) + (route.endpoint == .balances ? "?prefix=artist/luna/" : "")
            let other = try await harness.client(harness.otherArtist).send(method: .init(rawValue: route.method.rawValue), path: path, body: nil)
            #expect((other.status == 403) == (grants.artist != .yes), "\(Self.name(route)) as artist:sol: \(other.status)")
        }
        await harness.stop()
    }

    /// Issue 24: a node token committed any transfer whose key started with `node/NAME/` — from anywhere to anyone.
    @Test func aNodeCannotMoveMoney() async throws {
        let harness = try await ControlHarness()
        let node = harness.client(harness.node)
        let minted = try await node.post("/v1/transfers", json: ControlHarness.royalty(key: "node/edge-1/views-0001", artist: "x",
                                                                                       amount: 100_000_000, source: "evil"))
        #expect(minted.status == 403 && ControlHarness.errorCode(minted) == "insufficient_scope", "\(minted.status)")
        for (path, body) in [("/v1/tips", #"{"idempotency_key":"t","artist":"x","amount":100,"currency":"EUR","source":"evil","memo":"m"}"#),
                             ("/v1/payout-runs", #"{"period":"2026-11","currency":"EUR"}"#), ("/v1/checkpoints", "{}")] {
            #expect(try await node.post(path, json: Data(body.utf8)).status == 403, "\(path)")
        }
        for path in ["/v1/checkpoint", "/v1/balances", "/v1/accounts/artist/x/EUR", "/v1/proofs/consistency?first=0&second=0"] {
            #expect(try await node.get(path).status == 403, "\(path)")
        }
        #expect(harness.store.size == 0)
        #expect(try harness.store.balance(Account(parsing: "artist/x/EUR")) == 0)
        await harness.stop()
    }

    /// The README's scope table is this matrix.
    @Test func theReadmeDocumentsTheMatrix() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let lines = try String(contentsOf: readme, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let header = try #require(lines.firstIndex(of: "| route | admin | artist:ID | node:NAME |"), "the README has the scope table")
        var documented: [String: (artist: Grant, node: Grant)] = [:]
        for line in lines[(header + 2)...].prefix(while: { $0.hasPrefix("|") }) {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(cells.count == 4, "\(line)")
            #expect(cells[1] == "yes", "\(line): an admin may call every route")
            let artist = try #require(Grant(rawValue: cells[2]), "\(line)"), node = try #require(Grant(rawValue: cells[3]), "\(line)")
            documented[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = (artist, node)
        }
        #expect(Set(documented.keys) == Set(Self.matrix.keys))
        for (route, grants) in Self.matrix {
            #expect(documented[route].map { $0 == grants } == true, "\(route)")
        }
    }
}
