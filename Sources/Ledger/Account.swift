/// A ledger account: what it is for, and its currency. Written `kind/detail/CUR`:
/// `artist/ID/EUR`, `platform/revenue/EUR`, `tax/FR/EUR` (withheld for a country), `payouts/in-flight/EUR`,
/// `external/SOURCE/EUR` (money entering or leaving the platform: a DSP, a payment processor, a bank),
/// `suspense/SOURCE/EUR` (money received for nobody known yet: a DSP statement's unmatched lines, until an admin
/// assigns them).
///
/// Balance = credits − debits. Every account except `external/*` forbids a negative balance: the platform never owes
/// less than nothing to an artist, never withholds negative tax, never pays out more than is in flight.
public struct Account: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case artist(String)
        case platformRevenue
        case taxWithheld(country: String)
        case payoutsInFlight
        case external(String)
        case suspense(String)
    }

    public let kind: Kind
    public let currency: Currency

    public init(_ kind: Kind, _ currency: Currency) throws(LedgerError) {
        switch kind {
        case .artist(let id), .external(let id), .suspense(let id):
            guard Self.isIdentifier(id) else {
                throw .invalidAccount("\"\(id.prefix(80))\" must be 1-64 of a-z 0-9 . _ -, starting with a letter or digit")
            }
        case .taxWithheld(let country):
            guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                throw .invalidAccount("tax country \"\(country)\" must be an ISO 3166 alpha-2 code")
            }
        case .platformRevenue, .payoutsInFlight:
            break
        }
        self.kind = kind
        self.currency = currency
    }

    /// Parses `kind/detail/CUR`.
    public init(parsing text: String) throws(LedgerError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw .invalidAccount("\"\(text)\" is not kind/detail/CURRENCY") }
        let currency = try Currency(parts[2])
        let kind: Kind
        switch (parts[0], parts[1]) {
        case ("artist", let id): kind = .artist(id)
        case ("platform", "revenue"): kind = .platformRevenue
        case ("tax", let country): kind = .taxWithheld(country: country)
        case ("payouts", "in-flight"): kind = .payoutsInFlight
        case ("external", let source): kind = .external(source)
        case ("suspense", let source): kind = .suspense(source)
        default: throw .invalidAccount("\"\(text)\": unknown account kind (artist, platform/revenue, tax, payouts/in-flight, external, suspense)")
        }
        try self.init(kind, currency)
    }

    public var description: String {
        switch kind {
        case .artist(let id): "artist/\(id)/\(currency)"
        case .platformRevenue: "platform/revenue/\(currency)"
        case .taxWithheld(let country): "tax/\(country)/\(currency)"
        case .payoutsInFlight: "payouts/in-flight/\(currency)"
        case .external(let source): "external/\(source)/\(currency)"
        case .suspense(let source): "suspense/\(source)/\(currency)"
        }
    }

    public var forbidsNegativeBalance: Bool {
        if case .external = kind { return false }
        return true
    }

    /// The artist this account belongs to, if any.
    public var artist: String? {
        if case .artist(let id) = kind { return id }
        return nil
    }

    public static func < (lhs: Account, rhs: Account) -> Bool { lhs.description < rhs.description }

    /// An identifier (artist, external source): it becomes part of account names and of paths (`/v1/accounts/…`,
    /// statements, payout files), so it may not be `.`, `..` or start with punctuation.
    public static func isIdentifier(_ text: String) -> Bool {
        func isAlphanumeric(_ byte: UInt8) -> Bool { (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) }
        guard let first = text.utf8.first, isAlphanumeric(first), text.utf8.count <= 64 else { return false }
        return text.utf8.allSatisfy { isAlphanumeric($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }
}
