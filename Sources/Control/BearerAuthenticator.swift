import Hummingbird
import LedgerStore
import Logging

/// Authenticates every request before routing: `Authorization: Bearer <token>`, looked up by digest. A missing,
/// malformed, unknown or revoked token is a 401 (never a 404 that would reveal which routes exist); what the scope
/// may do is each route's business (403).
struct BearerAuthenticator: RouterMiddleware {
    typealias Context = ControlContext
    let store: LedgerStore
    let work: ControlWork

    func handle(_ request: Request, context: ControlContext, next: (Request, ControlContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw ControlError(.unauthorized, "unauthenticated", "a bearer token is required (Authorization: Bearer <token>)")
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw ControlError(.unauthorized, "unauthenticated", "the Authorization header must use the Bearer scheme")
        }
        let token = String(header.dropFirst(7))
        guard BearerToken.isWellFormed(token) else {
            throw ControlError(.unauthorized, "invalid_token", "the bearer token is malformed")
        }
        let scopeText: String?
        let store = self.store
        do {
            scopeText = try await work.request { try store.tokenScope(digest: BearerToken.digest(token)) }
        } catch {
            context.logger.error("token lookup failed", metadata: ["error": "\(error)"])
            throw ControlError(.serviceUnavailable, "unavailable", "the token store cannot be read")
        }
        guard let scopeText, let scope = Scope(scopeText) else {
            throw ControlError(.unauthorized, "invalid_token", "the bearer token is unknown or revoked")
        }
        var context = context
        context.scope = scope
        context.logger[metadataKey: "scope"] = "\(scope)"
        return try await next(request, context)
    }
}
