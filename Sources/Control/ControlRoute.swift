import Hummingbird

/// One route of the control API and who may call it. `ControlAPI.routes` is the single list the router is built from
/// and the OpenAPI document is checked against.
public struct ControlRoute: Sendable, Hashable {
    /// Who may call a route (every route needs a valid token first).
    public enum Access: Sendable, Hashable {
        /// `admin` only.
        case admin
        /// `admin`, or a node appending under its own key prefix.
        case adminOrNode
        /// `admin`, or the artist the request is about.
        case adminOrOwnArtist
        /// Any valid token: the log's public facts (checkpoints, proofs).
        case anyScope
    }

    public let method: HTTPRequest.Method
    /// With `{name}` placeholders, as in the OpenAPI document.
    public let path: String
    public let access: Access

    /// Whether `scope` may call this route at all (artists are further limited to their own data by the handler).
    public func admits(_ scope: Scope) -> Bool {
        switch (access, scope) {
        case (_, .admin), (.anyScope, _), (.adminOrNode, .node), (.adminOrOwnArtist, .artist): true
        default: false
        }
    }
}
