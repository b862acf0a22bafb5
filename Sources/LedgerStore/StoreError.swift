/// Why the store refused or failed.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// SQLite failed (I/O, corruption, locking); the message is SQLite's.
    case database(String)
    /// The stored log does not rebuild the signed state: the store refuses writes until someone looks.
    case integrity([String])
    case invalidRange(String)

    public var description: String {
        switch self {
        case .database(let message): "ledger database: \(message)"
        case .integrity(let problems): "ledger integrity check failed; writes refused: " + problems.prefix(5).joined(separator: "; ")
            + (problems.count > 5 ? " (and \(problems.count - 5) more)" : "")
        case .invalidRange(let reason): "invalid range: \(reason)"
        }
    }
}
