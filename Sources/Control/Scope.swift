import Ledger
/// What a control API token may do.
///
/// - `admin`: everything.
/// - `artist:ID`: read-only, and only the artist's own accounts, settings, statements and receipts (plus the log's
///   public facts: checkpoints and proofs, which are hashes).
/// - `node:NAME`: the node's own delivery reports, and nothing else (no transfer, no read): a compromised edge cannot
///   move money. `ControlRoute.access` is the matrix; the README's scope table documents it.
public enum Scope: Hashable, Sendable, CustomStringConvertible {
    case admin
    case artist(String)
    case node(String)

    /// Parses `admin`, `artist:ID` or `node:NAME` (IDs and names: 1-64 of a-z 0-9 . _ -).
    public init?(_ text: String) {
        if text == "admin" {
            self = .admin
            return
        }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, Self.isIdentifier(parts[1]) else { return nil }
        switch parts[0] {
        case "artist": self = .artist(parts[1])
        case "node": self = .node(parts[1])
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .admin: "admin"
        case .artist(let id): "artist:\(id)"
        case .node(let name): "node:\(name)"
        }
    }

    /// Artist and node names in scopes follow the ledger's identifier rule (they become account names and paths).
    static func isIdentifier(_ text: String) -> Bool { Account.isIdentifier(text) }
}
