import Hummingbird

/// The request context of the control API: who the bearer token says the caller is.
public struct ControlContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `BearerAuthenticator` before any route runs.
    public var scope: Scope?

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// The largest request body accepted (a transfer of 64 postings is well under 16 KiB).
    public var maxUploadSize: Int { ControlAPI.maximumBodyBytes }

    /// The caller's scope; every route sits behind the authenticator, so a missing scope is a programming error
    /// answered like a missing token.
    func requireScope() throws -> Scope {
        guard let scope else { throw ControlError(.unauthorized, "unauthenticated", "a bearer token is required") }
        return scope
    }
}
