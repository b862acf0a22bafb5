import Hummingbird

/// One route of the control API and who may call it. `ControlAPI.routes` is the single list the router is built from
/// and the OpenAPI document is checked against.
public struct ControlRoute: Sendable, Hashable {
    /// Who may call a route (every route needs a valid token first). Least privilege: a node may only post its own
    /// delivery reports (nothing that moves money or reads anyone's money), an artist only reads its own data and the
    /// log's public facts it needs to verify its receipts offline.
    public enum Access: Sendable, Hashable {
        /// `admin` only.
        case admin
        /// `admin`, or a node for itself: its own delivery reports, the only route a node may call.
        case adminOrOwnNode
        /// `admin`, or the artist the request is about.
        case adminOrOwnArtist
        /// `admin` or any artist: the log's public facts (checkpoints, proofs), which are hashes.
        case adminOrArtist
    }

    /// What a route does; handlers switch over it, so a route without a handler does not compile.
    public enum Endpoint: Sendable, Hashable, CaseIterable {
        case postTransfer, postTip, postSubscriptionPayment, subscriptionPool, postSplitRule, splitRules, putPayoutSettings,
             payoutSettings, postPayoutRun, payoutRun, payoutFile, confirmPayout, failPayout, postStatement, statement, artistStatement, postDeliveryReport, views, closeViews, checkpoint, issueCheckpoint, entries, inclusionProof, consistencyProof, balances, account, export,
             receipt, integrity
    }

    public let endpoint: Endpoint
    public let method: HTTPRequest.Method
    /// With `{name}` placeholders, as in the OpenAPI document.
    public let path: String
    public let access: Access

    public init(_ endpoint: Endpoint) {
        self.endpoint = endpoint
        (method, path, access) = switch endpoint {
        case .postTransfer: (.post, "/v1/transfers", .admin)
        case .postTip: (.post, "/v1/tips", .admin)
        case .postSubscriptionPayment: (.post, "/v1/subscriptions/payments", .admin)
        case .subscriptionPool: (.get, "/v1/subscriptions/pool", .admin)
        case .postSplitRule: (.post, "/v1/splits", .admin)
        case .splitRules: (.get, "/v1/splits", .admin)
        case .putPayoutSettings: (.put, "/v1/artists/{artist}/payout-settings", .admin)
        case .payoutSettings: (.get, "/v1/artists/{artist}/payout-settings", .adminOrOwnArtist)
        case .postPayoutRun: (.post, "/v1/payout-runs", .admin)
        case .payoutRun: (.get, "/v1/payout-runs/{run}", .admin)
        case .payoutFile: (.get, "/v1/payout-runs/{run}/files/{method}", .admin)
        case .confirmPayout: (.post, "/v1/payout-runs/{run}/payouts/{artist}/confirm", .admin)
        case .failPayout: (.post, "/v1/payout-runs/{run}/payouts/{artist}/fail", .admin)
        case .postStatement: (.post, "/v1/statements", .admin)
        case .statement: (.get, "/v1/statements/{dsp}/{period}", .admin)
        case .artistStatement: (.get, "/v1/artists/{artist}/statement", .adminOrOwnArtist)
        case .postDeliveryReport: (.post, "/v1/reports/deliveries", .adminOrOwnNode)
        case .views: (.get, "/v1/views/{period}", .admin)
        case .closeViews: (.post, "/v1/views/{period}/close", .admin)
        case .checkpoint: (.get, "/v1/checkpoint", .adminOrArtist)
        case .issueCheckpoint: (.post, "/v1/checkpoints", .admin)
        case .entries: (.get, "/v1/entries", .admin)
        case .inclusionProof: (.get, "/v1/proofs/inclusion", .adminOrArtist)
        case .consistencyProof: (.get, "/v1/proofs/consistency", .adminOrArtist)
        case .balances: (.get, "/v1/balances", .adminOrOwnArtist)
        case .account: (.get, "/v1/accounts/{kind}/{detail}/{currency}", .adminOrOwnArtist)
        case .export: (.get, "/v1/export", .admin)
        case .receipt: (.get, "/v1/artists/{artist}/receipt", .adminOrOwnArtist)
        case .integrity: (.get, "/v1/integrity", .admin)
        }
    }

    /// Whether `scope` may call this route at all (artists and nodes are further limited to their own data by the
    /// handler).
    public func admits(_ scope: Scope) -> Bool {
        switch (access, scope) {
        case (_, .admin), (.adminOrOwnNode, .node), (.adminOrOwnArtist, .artist), (.adminOrArtist, .artist): true
        case (.admin, _), (.adminOrOwnNode, .artist), (.adminOrOwnArtist, .node), (.adminOrArtist, .node): false
        }
    }
}
