/// Why a ledger input was refused; every case says precisely what is wrong.
public enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownCurrency(String)
    case invalidAmount(String)
    case invalidAccount(String)
    case invalidTransfer(String)
    case unbalanced(currency: String, debits: Int64, credits: Int64)
    case negativeBalance(account: String, balance: Int64)
    case idempotencyConflict(String)
    case malformedEntry(String)

    public var description: String {
        switch self {
        case .unknownCurrency(let code): "unknown currency \"\(code)\" (ISO 4217 code expected)"
        case .invalidAmount(let reason): "invalid amount: \(reason)"
        case .invalidAccount(let reason): "invalid account: \(reason)"
        case .invalidTransfer(let reason): "invalid transfer: \(reason)"
        case .unbalanced(let currency, let debits, let credits):
            "postings in \(currency) do not balance: debits \(debits), credits \(credits) (minor units)"
        case .negativeBalance(let account, let balance): "account \(account) may not go negative (would be \(balance))"
        case .idempotencyConflict(let key): "idempotency key \"\(key)\" was already used with a different transfer"
        case .malformedEntry(let reason): "malformed ledger entry: \(reason)"
        }
    }
}
