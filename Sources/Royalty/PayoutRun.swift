import Ledger

/// A payout run: one per month and currency (`2026-11-EUR`). Planning is pure: from the artists' balances in the
/// run's currency, their payout settings and the withholding rates it decides who is paid what; the plan is stored
/// before any money moves, and each planned payout is then one ledger transfer under the key
/// `payout:YYYY-MM:CUR:ARTIST` (several, `…:ARTIST:2` on, when one posting cannot carry its gross: `parts`), so however
/// often a run is resumed after a crash, every artist is paid once.
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

    /// One transfer's share of a payout. A gross that one posting can carry (`Currency.maximumMinorUnits`) is one
    /// part; a larger one is paid in as many parts as needed, each a transfer under its own key, the gross, tax and
    /// net spread over them exactly (largest remainder: the parts sum to the payout).
    public struct Part: Sendable, Equatable {
        /// 1, 2, …: part 1 is keyed as a single payout always was (`payout:YYYY-MM:CUR:ARTIST`), part n as `…:ARTIST:n`.
        public let number: Int
        public let gross: Int64
        public let withheld: Int64
        public let net: Int64
    }

    /// The parts `payout` is paid in: every amount of every part at most `Currency.maximumMinorUnits`.
    public static func parts(_ payout: Payout) -> [Part] {
        let limit = Currency.maximumMinorUnits
        guard payout.gross > limit else { return [Part(number: 1, gross: payout.gross, withheld: payout.withheld, net: payout.net)] }
        // With k parts, k > gross / (limit − 1), a part's net and tax are each at most one above their k-th share, so its
        // gross is below gross / k + 2 < limit + 1.
        let count = payout.gross / (limit - 1) + 1
        func share(_ total: Int64, _ index: Int64) -> Int64 { total / count + (index < total % count ? 1 : 0) }
        let parts = (0..<count).map { index in
            let net = share(payout.net, index), withheld = share(payout.withheld, index)
            return Part(number: Int(index) + 1, gross: net + withheld, withheld: withheld, net: net)
        }
        precondition(parts.allSatisfy { $0.gross <= limit && $0.gross > 0 }, "every part fits one posting")
        precondition(parts.map(\.net).checkedSum == payout.net && parts.map(\.withheld).checkedSum == payout.withheld, "the parts are the payout")
        return parts
    }

    /// The ledger key of the payout of `artist` in run `run` (of its part `part`).
    public static func payoutKey(_ run: ID, artist: String, part: Int = 1) -> String { key("payout", run, artist, part) }

    /// The ledger key of its confirmation.
    public static func confirmationKey(_ run: ID, artist: String, part: Int = 1) -> String { key("payout-confirm", run, artist, part) }

    /// The ledger key of its failure.
    public static func failureKey(_ run: ID, artist: String, part: Int = 1) -> String { key("payout-fail", run, artist, part) }

    private static func key(_ step: String, _ run: ID, _ artist: String, _ part: Int) -> String {
        "\(step):\(run.month):\(run.currency.code):\(artist)" + (part == 1 ? "" : ":\(part)")
    }

    /// The settlement keys (confirmation, failure) of a payout part's key, nil when `key` is no payout's key.
    public static func settlementKeys(ofPayoutKey key: String) -> (confirmation: String, failure: String)? {
        guard key.hasPrefix("payout:") else { return nil }
        let rest = key.dropFirst("payout:".count)
        return ("payout-confirm:" + rest, "payout-fail:" + rest)
    }

    /// The payout's key a failure's key returns, nil when `key` is no failure's key.
    public static func payoutKey(ofFailureKey key: String) -> String? {
        guard key.hasPrefix("payout-fail:") else { return nil }
        return "payout:" + key.dropFirst("payout-fail:".count)
    }

    /// The payout's transfers, one per part: the gross off the artist's account, withheld tax and net in flight.
    public static func transfers(_ payout: Payout, run: ID) throws(LedgerError) -> [Transfer] {
        let parts = Self.parts(payout)
        return try parts.map { part throws(LedgerError) in
            var postings = [Transfer.Posting(.debit, try Account(.artist(payout.artist), run.currency), part.gross)]
            if part.net > 0 { postings.append(Transfer.Posting(.credit, try Account(.payoutsInFlight, run.currency), part.net)) }
            if part.withheld > 0 {
                postings.append(Transfer.Posting(.credit, try Account(.taxWithheld(country: payout.taxCountry), run.currency), part.withheld))
            }
            return try Transfer(idempotencyKey: payoutKey(run, artist: payout.artist, part: part.number), kind: .payout, postings: postings,
                                memo: "payout \(run) (\(payout.method.name), tax \(payout.taxCountry))" + memoSuffix(part, of: parts.count))
        }
    }

    /// The confirmation's transfers, one per part with a net: the net leaves the platform through the payout method.
    public static func confirmations(_ payout: Payout, run: ID) throws(LedgerError) -> [Transfer] {
        let parts = Self.parts(payout)
        return try parts.filter { $0.net > 0 }.map { part throws(LedgerError) in
            try Transfer(idempotencyKey: confirmationKey(run, artist: payout.artist, part: part.number), kind: .payout, postings: [
                Transfer.Posting(.debit, try Account(.payoutsInFlight, run.currency), part.net),
                Transfer.Posting(.credit, try Account(.external(payout.method.name), run.currency), part.net),
            ], memo: "payout \(run) to \(payout.artist) confirmed" + memoSuffix(part, of: parts.count))
        }
    }

    /// The failure's transfers, one per part: the gross back to the artist.
    public static func failures(_ payout: Payout, run: ID) throws(LedgerError) -> [Transfer] {
        let parts = Self.parts(payout)
        return try parts.map { part throws(LedgerError) in
            var postings: [Transfer.Posting] = []
            if part.net > 0 { postings.append(Transfer.Posting(.debit, try Account(.payoutsInFlight, run.currency), part.net)) }
            postings.append(Transfer.Posting(.credit, try Account(.artist(payout.artist), run.currency), part.gross))
            if part.withheld > 0 {
                postings.append(Transfer.Posting(.debit, try Account(.taxWithheld(country: payout.taxCountry), run.currency), part.withheld))
            }
            return try Transfer(idempotencyKey: failureKey(run, artist: payout.artist, part: part.number), kind: .payout, postings: postings,
                                memo: "payout \(run) to \(payout.artist) failed: returned" + memoSuffix(part, of: parts.count))
        }
    }

    /// ` (part n of k)` for a payout paid in several parts, else nothing.
    private static func memoSuffix(_ part: Part, of count: Int) -> String {
        count == 1 ? "" : " (part \(part.number) of \(count))"
    }
}
