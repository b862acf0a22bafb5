/// The one rule for moving a balance, used by the pure `LedgerBook`, the SQLite store and every integrity check:
/// credits add, debits subtract; a result outside 64 bits is refused (never wrapped), and so is a protected account
/// (every one but `external/*`) going below zero.
public enum BalanceRule {
    /// The balance after `posting` moves `current`.
    public static func apply(_ posting: Transfer.Posting, to current: Int64) throws(LedgerError) -> Int64 {
        guard let next = move(current, by: posting) else {
            throw .invalidAmount("the balance of \(posting.account) would leave the 64-bit range")
        }
        if posting.account.forbidsNegativeBalance && next < 0 {
            throw .negativeBalance(account: posting.account.description, balance: next)
        }
        return next
    }

    /// `current` moved by `posting`, or nil when the result leaves 64 bits (a check reports that rather than wrap).
    public static func move(_ current: Int64, by posting: Transfer.Posting) -> Int64? {
        let (next, overflow) = posting.side == .credit ? current.addingReportingOverflow(posting.amount)
            : current.subtractingReportingOverflow(posting.amount)
        return overflow ? nil : next
    }
}

extension Sequence<Int64> {
    /// The sum of amounts, or nil when it leaves 64 bits (a total is refused, never wrapped).
    public var checkedSum: Int64? {
        var total: Int64 = 0
        for amount in self {
            let (sum, overflow) = total.addingReportingOverflow(amount)
            guard !overflow else { return nil }
            total = sum
        }
        return total
    }
}
