import Ledger

/// How an artist is paid: by SEPA credit transfer to an IBAN, or by a line in the manual CSV (any other rail — a
/// wallet, a cheque — named by a reference); the minimum balance worth a payout, in the payout currency; and the tax
/// country whose withholding applies (an artist without one is not paid out).
public struct PayoutSettings: Sendable, Equatable {
    public enum Method: Sendable, Equatable {
        case sepa(iban: IBAN, bic: String?)
        /// A payout listed in the manual CSV; `reference` says where it goes (≤ 140 characters, one line).
        case manual(reference: String)

        public var name: String {
            switch self {
            case .sepa: "sepa"
            case .manual: "csv"
            }
        }

        /// Where the money goes: the IBAN (sepa) or the reference (csv).
        public var destination: String {
            switch self {
            case .sepa(let iban, _): iban.value
            case .manual(let reference): reference
            }
        }

        /// The method named `name` (`sepa`, `csv`) to `destination` (an IBAN, a reference); nil when they make none.
        public init?(name: String, destination: String, bic: String?) {
            switch name {
            case "sepa":
                guard let iban = try? IBAN(destination) else { return nil }
                self = .sepa(iban: iban, bic: bic)
            case "csv":
                self = .manual(reference: destination)
            default:
                return nil
            }
        }
    }

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    public let method: Method
    /// The account holder's name, as the bank or the manual payer needs it (1-70 characters, one line).
    public let accountName: String
    /// Minor units of `currency`: a balance below it waits for a later run.
    public let minimum: Int64
    public let currency: Currency
    /// ISO 3166 alpha-2.
    public let taxCountry: String

    public init(method: Method, accountName: String, minimum: Int64, currency: Currency, taxCountry: String) throws(Invalid) {
        guard (1...70).contains(accountName.count), !accountName.contains(where: \.isNewline) else {
            throw Invalid(reason: "account_name must be 1-70 characters on one line")
        }
        guard minimum >= 0, minimum <= 1_000_000_000_000_000 else { throw Invalid(reason: "minimum must be within 0...10^15 minor units") }
        guard taxCountry.count == 2, taxCountry.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw Invalid(reason: "tax_country \"\(taxCountry.prefix(8))\" must be an ISO 3166 alpha-2 code")
        }
        switch method {
        case .sepa(_, let bic):
            guard currency.code == "EUR" else { throw Invalid(reason: "SEPA payouts are in EUR, not \(currency.code)") }
            if let bic {
                do {
                    try SEPACreditTransfer.checkBIC(bic)
                } catch {
                    throw Invalid(reason: "bic: \(error.reason)")
                }
            }
        case .manual(let reference):
            guard (1...140).contains(reference.count), !reference.contains(where: \.isNewline) else {
                throw Invalid(reason: "reference must be 1-140 characters on one line")
            }
        }
        self.method = method
        self.accountName = accountName
        self.minimum = minimum
        self.currency = currency
        self.taxCountry = taxCountry
    }
}
