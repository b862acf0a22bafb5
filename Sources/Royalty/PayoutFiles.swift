import Ledger

/// A run's payout instructions, one adapter per method: the bank wire file (`pain.001`, SEPA payouts) and the manual
/// CSV (every other rail: the payer follows each line's reference). Payment processors would be a third adapter
/// (`PayoutAdapter`); none that needs a network service ships.
public protocol PayoutAdapter {
    /// The method this adapter pays (`PayoutSettings.Method.name`).
    static var method: String { get }
    /// The file's media type.
    static var mediaType: String { get }
    /// The instruction file for `payouts` (those of this method, each with its 1-based number in the run's plan) of
    /// `run`, made at `createdAt` (Unix seconds). The same inputs give the same bytes.
    static func file(run: PayoutRun.ID, payouts: [NumberedPayout], createdAt: Int64, debtor: SEPACreditTransfer.Account?) throws(PayoutFileError) -> String
}

/// A payout with its 1-based number in its run's plan (ordered by artist): it names the payout in the files.
public typealias NumberedPayout = (number: Int, payout: PayoutRun.Payout)

public struct PayoutFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// SEPA payouts as one `pain.001.001.09` credit-transfer initiation: message id `EDGENODE-YYYY-MM-CUR`, end-to-end id
/// per payout `YYYY-MM-CUR-N` (its number in the run's plan), remittance text naming the period and the artist.
public enum SEPAPayoutFile: PayoutAdapter {
    public static let method = "sepa"
    public static let mediaType = "application/xml"

    public static func file(run: PayoutRun.ID, payouts: [NumberedPayout], createdAt: Int64, debtor: SEPACreditTransfer.Account?)
        throws(PayoutFileError) -> String {
        guard let debtor else { throw PayoutFileError("no SEPA debtor account is configured ([royalty] sepa_debtor_name, sepa_debtor_iban)") }
        guard run.currency.code == "EUR" else { throw PayoutFileError("SEPA payouts are in EUR, not \(run.currency.code)") }
        var payments: [SEPACreditTransfer.Payment] = []
        for (number, payout) in payouts {
            guard case .sepa(let iban, let bic) = payout.method else { throw PayoutFileError("\(payout.artist) is not paid by SEPA") }
            payments.append(SEPACreditTransfer.Payment(
                endToEndID: "\(run)-\(number)", creditor: SEPACreditTransfer.Account(name: payout.accountName, iban: iban, bic: bic),
                cents: payout.net, remittance: "Royalties \(run.month) \(payout.artist)"))
        }
        do {
            return try SEPACreditTransfer.document(messageID: "EDGENODE-\(run)", createdAt: createdAt, executionDay: createdAt,
                                                   debtor: debtor, payments: payments)
        } catch {
            throw PayoutFileError(error.description)
        }
    }
}

/// Manual payouts as CSV: `run,number,artist,account_name,reference,currency,net,net_minor_units,withheld_minor_units,tax_country`,
/// one line per payout (CRLF), every cell by `CSVCell` (quoted when needed, neutralised when it could start a formula).
public enum ManualPayoutFile: PayoutAdapter {
    public static let method = "csv"
    public static let mediaType = "text/csv"
    public static let header = "run,number,artist,account_name,reference,currency,net,net_minor_units,withheld_minor_units,tax_country"

    public static func file(run: PayoutRun.ID, payouts: [NumberedPayout], createdAt: Int64, debtor: SEPACreditTransfer.Account?)
        throws(PayoutFileError) -> String {
        var text = header + "\r\n"
        for (number, payout) in payouts {
            guard case .manual(let reference) = payout.method else { throw PayoutFileError("\(payout.artist) is not paid manually") }
            let cells = ["\(run)", "\(number)", payout.artist, payout.accountName, reference, run.currency.code, run.currency.format(payout.net),
                         "\(payout.net)", "\(payout.withheld)", payout.taxCountry]
            text += cells.map(CSVCell.encode).joined(separator: ",") + "\r\n"
        }
        return text
    }
}
