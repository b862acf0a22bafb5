import Control
import Foundation
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
