import Foundation
import Ledger
import LedgerStore
import Royalty

/// A payout run's plan as the store keeps it (a write-once document of kind `payout-run`, id `YYYY-MM-CUR`): every
/// payout with the destination it was planned to, and every artist skipped with the reason, so a resumed run, its
/// files and its reads all use what was decided at planning time.
struct PayoutPlanDocument: Codable, Sendable {
    static let kind = "payout-run"

    struct Payout: Codable, Sendable {
        var artist: String
        var gross: Int64
        var withheld: Int64
        var net: Int64
        var taxCountry: String
        /// `sepa` or `csv`.
        var method: String
        var accountName: String
        /// The IBAN (sepa) or the manual reference (csv).
        var destination: String
        var bic: String?
    }

    struct Skipped: Codable, Sendable {
        var artist: String
        var reason: String
        var message: String
    }

    var run: String
    var payouts: [Payout]
    var skipped: [Skipped]

    init(run: PayoutRun.ID, plan: PayoutRun.Plan) {
        self.run = run.description
        payouts = plan.payouts.map { payout in
            var bic: String?
            if case .sepa(_, let code) = payout.method { bic = code }
            return Payout(artist: payout.artist, gross: payout.gross, withheld: payout.withheld, net: payout.net, taxCountry: payout.taxCountry,
                          method: payout.method.name, accountName: payout.accountName, destination: payout.method.destination, bic: bic)
        }
        skipped = plan.skipped.map { Skipped(artist: $0.artist, reason: $0.reason.code, message: $0.reason.description) }
    }

    /// The stored payout as the royalty rules take it; nil when the stored bytes no longer make one.
    static func payout(_ stored: Payout) -> PayoutRun.Payout? {
        guard let method = PayoutSettings.Method(name: stored.method, destination: stored.destination, bic: stored.bic) else { return nil }
        return PayoutRun.Payout(artist: stored.artist, gross: stored.gross, withheld: stored.withheld, net: stored.net,
                                taxCountry: stored.taxCountry, method: method, accountName: stored.accountName)
    }

    /// Every payout, decoded; a stored payout that does not decode is a storage failure.
    func decodedPayouts() throws -> [PayoutRun.Payout] {
        try payouts.map { stored in
            guard let payout = Self.payout(stored) else {
                throw ControlError(.serviceUnavailable, "storage_failure", "run \(run): the stored payout of \(stored.artist) does not decode")
            }
            return payout
        }
    }
}

extension PayoutSettings {
    /// Settings as stored; nil when the stored row no longer validates.
    init?(stored: LedgerStore.StoredPayoutSettings) {
        guard let method = Method(name: stored.method, destination: stored.destination, bic: stored.bic),
              let currency = try? Currency(stored.currency),
              let settings = try? PayoutSettings(method: method, accountName: stored.accountName, minimum: stored.minimum, currency: currency,
                                                 taxCountry: stored.taxCountry) else { return nil }
        self = settings
    }
}
