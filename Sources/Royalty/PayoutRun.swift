import Ledger

/// A payout run: one per month and currency (`2026-11-EUR`). Planning is pure: from the artists' balances in the
/// run's currency, their payout settings and the withholding rates it decides who is paid what; the plan is stored
/// before any money moves, and each planned payout is then one ledger transfer under the key
/// `payout:YYYY-MM:CUR:ARTIST`, so however often a run is resumed after a crash, every artist is paid once.
///
/// A payout moves the artist's whole balance at planning time (gross): the withheld tax to `tax/CC/CUR`, the rest (net)
/// to `payouts/in-flight/CUR`. Confirming it moves the net on to `external/METHOD/CUR` (the money left); failing it
/// gives the artist the gross back (the net from in-flight, the tax from `tax/CC/CUR`), for a later run to pay.
public enum PayoutRun {
    /// A run's identifier: `YYYY-MM-CUR`.
    public struct ID: Hashable, Sendable, CustomStringConvertible {
        public let month: Month
        public let currency: Currency

        public init(month: Month, currency: Currency) {
            self.month = month
            self.currency = currency
        }

        /// Parses `YYYY-MM-CUR`.
        public init?(_ text: String) {
            guard text.utf8.count == 11, let month = Month(String(text.prefix(7))), text.dropFirst(7).first == "-",
                  let currency = try? Currency(String(text.suffix(3))) else { return nil }
            self.init(month: month, currency: currency)
        }

        public var description: String { "\(month)-\(currency.code)" }
    }

    /// An artist with money in the run's currency, and the settings stored for it (nil: none).
    public struct Candidate: Sendable, Equatable {
        public let artist: String
        public let balance: Int64
        public let settings: PayoutSettings?

        public init(artist: String, balance: Int64, settings: PayoutSettings?) {
            self.artist = artist
            self.balance = balance
            self.settings = settings
        }
    }

    /// One artist's payout, as planned.
    public struct Payout: Sendable, Equatable {
        public let artist: String
        public let gross: Int64
        public let withheld: Int64
        public let net: Int64
        public let taxCountry: String
        public let method: PayoutSettings.Method
        public let accountName: String

        public init(artist: String, gross: Int64, withheld: Int64, net: Int64, taxCountry: String, method: PayoutSettings.Method,
                    accountName: String) {
            self.artist = artist
            self.gross = gross
            self.withheld = withheld
            self.net = net
            self.taxCountry = taxCountry
            self.method = method
            self.accountName = accountName
        }
    }

    /// Why an artist with a balance is not paid in a run.
    public enum Skip: Sendable, Equatable, CustomStringConvertible {
        case noPayoutSettings
        case otherCurrency(String)
        case belowMinimum(Int64)
        case noTaxRate(String)
        case nothingAfterTax

        /// A stable code for APIs and files.
        public var code: String {
            switch self {
            case .noPayoutSettings: "no_payout_settings"
            case .otherCurrency: "other_currency"
            case .belowMinimum: "below_minimum"
            case .noTaxRate: "no_tax_rate"
            case .nothingAfterTax: "nothing_after_tax"
            }
        }

        public var description: String {
            switch self {
            case .noPayoutSettings: "no payout settings (no tax profile): not paid out"
            case .otherCurrency(let code): "paid out in \(code)"
            case .belowMinimum(let minimum): "balance below the artist's minimum of \(minimum) minor units"
            case .noTaxRate(let country): "no withholding rate is configured for tax country \(country)"
            case .nothingAfterTax: "nothing left after withholding"
            }
        }
    }

    public struct Plan: Sendable, Equatable {
        /// Ordered by artist.
        public let payouts: [Payout]
        /// Ordered by artist.
        public let skipped: [(artist: String, reason: Skip)]

        public static func == (a: Plan, b: Plan) -> Bool {
            a.payouts == b.payouts && a.skipped.map(\.artist) == b.skipped.map(\.artist) && a.skipped.map(\.reason) == b.skipped.map(\.reason)
        }
    }

    /// Decides the run: an artist is paid when it has payout settings in the run's currency, a configured rate for its
    /// tax country, a balance at or above its minimum, and something left after withholding.
    public static func plan(currency: Currency, candidates: [Candidate], rates: TaxRates) -> Plan {
        var payouts: [Payout] = []
        var skipped: [(artist: String, reason: Skip)] = []
        for candidate in candidates.sorted(by: { $0.artist < $1.artist }) where candidate.balance > 0 {
            guard let settings = candidate.settings else {
                skipped.append((candidate.artist, .noPayoutSettings))
                continue
            }
            guard settings.currency == currency else {
                skipped.append((candidate.artist, .otherCurrency(settings.currency.code)))
                continue
            }
            guard let rate = rates.rate(for: settings.taxCountry) else {
                skipped.append((candidate.artist, .noTaxRate(settings.taxCountry)))
                continue
            }
            guard candidate.balance >= settings.minimum else {
                skipped.append((candidate.artist, .belowMinimum(settings.minimum)))
                continue
            }
            let (net, withheld) = Withholding.split(gross: candidate.balance, rate: rate)
            guard net > 0 else {
                skipped.append((candidate.artist, .nothingAfterTax))
                continue
            }
            payouts.append(Payout(artist: candidate.artist, gross: candidate.balance, withheld: withheld, net: net,
                                  taxCountry: settings.taxCountry, method: settings.method, accountName: settings.accountName))
        }
        return Plan(payouts: payouts, skipped: skipped)
    }

    /// The ledger key of the payout of `artist` in run `run`.
    public static func payoutKey(_ run: ID, artist: String) -> String { "payout:\(run.month):\(run.currency.code):\(artist)" }

    /// The ledger key of its confirmation.
    public static func confirmationKey(_ run: ID, artist: String) -> String { "payout-confirm:\(run.month):\(run.currency.code):\(artist)" }

    /// The ledger key of its failure.
    public static func failureKey(_ run: ID, artist: String) -> String { "payout-fail:\(run.month):\(run.currency.code):\(artist)" }

    /// The payout's transfer: the gross off the artist's account, withheld tax and net in flight.
    public static func transfer(_ payout: Payout, run: ID) throws(LedgerError) -> Transfer {
        var postings = [Transfer.Posting(.debit, try Account(.artist(payout.artist), run.currency), payout.gross),
                        Transfer.Posting(.credit, try Account(.payoutsInFlight, run.currency), payout.net)]
        if payout.withheld > 0 {
            postings.append(Transfer.Posting(.credit, try Account(.taxWithheld(country: payout.taxCountry), run.currency), payout.withheld))
        }
        return try Transfer(idempotencyKey: payoutKey(run, artist: payout.artist), kind: .payout, postings: postings,
                            memo: "payout \(run) (\(payout.method.name), tax \(payout.taxCountry))")
    }

    /// The confirmation's transfer: the net leaves the platform through the payout method.
    public static func confirmation(_ payout: Payout, run: ID) throws(LedgerError) -> Transfer {
        try Transfer(idempotencyKey: confirmationKey(run, artist: payout.artist), kind: .payout, postings: [
            Transfer.Posting(.debit, try Account(.payoutsInFlight, run.currency), payout.net),
            Transfer.Posting(.credit, try Account(.external(payout.method.name), run.currency), payout.net),
        ], memo: "payout \(run) to \(payout.artist) confirmed")
    }

    /// The failure's transfer: the gross back to the artist.
    public static func failure(_ payout: Payout, run: ID) throws(LedgerError) -> Transfer {
        var postings = [Transfer.Posting(.debit, try Account(.payoutsInFlight, run.currency), payout.net),
                        Transfer.Posting(.credit, try Account(.artist(payout.artist), run.currency), payout.gross)]
        if payout.withheld > 0 {
            postings.append(Transfer.Posting(.debit, try Account(.taxWithheld(country: payout.taxCountry), run.currency), payout.withheld))
        }
        return try Transfer(idempotencyKey: failureKey(run, artist: payout.artist), kind: .payout, postings: postings,
                            memo: "payout \(run) to \(payout.artist) failed: returned")
    }
}
