import Crypto
import Foundation
import Ledger
import Manifest
import Royalty

/// One import of a DSP statement as the store keeps it (a write-once document of kind `statement`, id
/// `DSP:YYYY-MM:DIGEST`, the digest of its lines): the lines as read, so that a later import of the same statement is
/// compared line by line, and the reconciliation report is read back from what was imported.
struct StatementDocument: Codable, Sendable {
    static let kind = "statement"

    struct Line: Codable, Sendable {
        var number: Int
        var transaction: String
        var isrc: String?
        var content: String?
        var artist: String?
        var territory: String?
        var useType: String?
        var usages: UInt64
        var amount: Int64
        var currency: String

        init(_ line: DSPStatement.Line) {
            number = line.number
            transaction = line.transactionID
            isrc = line.isrc?.code
            content = line.contentID
            artist = line.artistID
            territory = line.territory
            useType = line.useType
            usages = line.usages
            amount = line.amount
            currency = line.currency.code
        }

        /// The line as the royalty rules take it; nil when the stored values no longer make one.
        var decoded: DSPStatement.Line? {
            guard let currency = try? Currency(currency) else { return nil }
            var code: ISRC?
            if let isrc {
                guard let parsed = try? ISRC(isrc) else { return nil }
                code = parsed
            }
            return DSPStatement.Line(number: number, transactionID: transaction, isrc: code, contentID: content, artistID: artist,
                                     territory: territory, useType: useType, usages: usages, amount: amount, currency: currency)
        }
    }

    var dsp: String
    var period: String
    var lines: [Line]

    /// The id prefix of every import of `dsp`'s statement for `period`.
    static func prefix(dsp: String, period: Month) -> String { "\(dsp):\(period):" }

    /// This import's id: the prefix and the SHA-256 of its encoded lines (the same file imported again has the same id).
    func id(encoded: Data) -> String {
        let digest = SHA256.hash(data: encoded).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        return "\(dsp):\(period):\(digest)"
    }
}
