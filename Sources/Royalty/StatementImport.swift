import Crypto
import Ledger

/// A DSP statement booked into the ledger: one transfer per line with revenue, from `external/DSP/CUR` to whoever the
/// line's recording pays — its split rule in force at the period's start, else the artist who published it — or to the
/// line's artist when the recording is unknown but the artist is known, else to `suspense/DSP/CUR`, for an admin to
/// assign. Each line's ledger key is `statement:DSP:YYYY-MM:` + its `SalesTransactionId` (a digest of it when the key
/// would exceed the ledger's 128 bytes), so importing a line again is a no-op.
public enum StatementImport {
    /// The longest DSP name: it is in every line's key and account.
    public static let maximumDSPBytes = 32

    /// How a line was matched.
    public enum Match: Sendable, Equatable {
        /// Its recording, paid to the content's rights holders.
        case content(String)
        /// Its artist, known to the platform, for an unknown recording.
        case artist(String)
        /// Nobody known: the line's revenue is in suspense.
        case suspense
    }

    public struct Booking: Sendable {
        public let line: DSPStatement.Line
        public let match: Match
        /// Nil for a line without revenue (nothing to move).
        public let transfer: Transfer?
    }

    /// Whether `dsp` can name a statement's source: an identifier of at most `maximumDSPBytes`.
    public static func isDSPName(_ dsp: String) -> Bool { Account.isIdentifier(dsp) && dsp.utf8.count <= maximumDSPBytes }

    /// The ledger key of a statement line.
    public static func key(dsp: String, period: Month, transaction: String) -> String {
        let prefix = "statement:\(dsp):\(period):"
        if prefix.utf8.count + transaction.utf8.count <= Transfer.maximumKeyBytes { return prefix + transaction }
        let digest = SHA256.hash(data: Array(transaction.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        return prefix + "sha256:" + digest
    }

    /// The transfers of `statement` from `dsp` for `period`.
    public static func book(_ statement: DSPStatement, dsp: String, period: Month, holders: RightsHolders) throws(LedgerError) -> [Booking] {
        let at = CivilTime.seconds(year: Int64(period.year), month: Int64(period.month), day: 1)
        var bookings: [Booking] = []
        bookings.reserveCapacity(statement.lines.count)
        for line in statement.lines {
            var match = Match.suspense
            var parts: [(artist: String, amount: Int64)] = []
            let candidates = [line.contentID, line.isrc.flatMap { holders.catalog.recording(isrc: $0)?.contentID }].compactMap { $0 }
            if let content = candidates.first(where: { holders.pay(content: $0, at: at) }) {
                match = .content(content)
                parts = holders.split(line.amount, content: content, at: at) ?? []
            } else if let artist = line.artistID, holders.catalog.knownArtists.contains(artist) {
                match = .artist(artist)
                parts = [(artist, line.amount)]
            }
            guard line.amount > 0 else {
                bookings.append(Booking(line: line, match: match, transfer: nil))
                continue
            }
            var postings = [Transfer.Posting(.debit, try Account(.external(dsp), line.currency), line.amount)]
            if match == .suspense {
                postings.append(Transfer.Posting(.credit, try Account(.suspense(dsp), line.currency), line.amount))
            } else {
                for part in parts where part.amount > 0 {
                    postings.append(Transfer.Posting(.credit, try Account(.artist(part.artist), line.currency), part.amount))
                }
            }
            let transfer = try Transfer(idempotencyKey: key(dsp: dsp, period: period, transaction: line.transactionID), kind: .statement,
                                        postings: postings, memo: memo(line, dsp: dsp, period: period))
            bookings.append(Booking(line: line, match: match, transfer: transfer))
        }
        return bookings
    }

    /// What a line says, within the memo's 256 bytes.
    static func memo(_ line: DSPStatement.Line, dsp: String, period: Month) -> String {
        var parts = ["\(dsp) \(period) line \(line.number)"]
        if let isrc = line.isrc { parts.append("ISRC \(isrc.code)") }
        if let content = line.contentID { parts.append("content \(content)") }
        if let artist = line.artistID { parts.append("artist \(artist)") }
        parts.append("\(line.usages) usages" + ([line.territory, line.useType].compactMap { $0 }.isEmpty ? ""
                                                : " (" + [line.territory, line.useType].compactMap { $0 }.joined(separator: " ") + ")"))
        var memo = parts.joined(separator: ", ")
        while memo.utf8.count > Transfer.maximumMemoBytes { memo.removeLast() }
        return memo
    }

    /// A line of a new import that disagrees with the same transaction in an earlier import of the statement.
    public struct Difference: Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let transaction: String
        public let fields: [String]
        public var description: String { "line \(line) (\(transaction)): \(fields.joined(separator: ", ")) differ from the earlier import" }
    }

    /// The lines of `statement` whose transaction was imported before with other values.
    public static func differences(_ statement: DSPStatement, earlier: [String: DSPStatement.Line]) -> [Difference] {
        statement.lines.compactMap { line in
            guard let before = earlier[line.transactionID] else { return nil }
            let fields = line.differingFields(from: before)
            return fields.isEmpty ? nil : Difference(line: line.number, transaction: line.transactionID, fields: fields)
        }
    }
}
