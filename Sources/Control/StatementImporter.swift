import Foundation
import Ledger
import LedgerStore
import Royalty

/// Imports DSP statements: refuses a file whose lines disagree with an earlier import of the same statement (naming
/// the lines), keeps each import's lines (a write-once document, stored before any money moves), then books every line
/// under its own key — so importing again, or resuming after a crash, books each line once — and reads back the
/// reconciliation report.
struct StatementImporter: Sendable {
    /// Lines committed per SQLite transaction.
    static let batch = 1_000
    /// Unmatched lines listed in a report (all are counted).
    static let maximumListed = 1_000

    let store: LedgerStore
    let settings: RoyaltySettings

    /// What importing did.
    struct Outcome: Sendable {
        /// Whether this file (these lines) had not been imported before.
        let created: Bool
        /// Lines booked by this import.
        let committed: Int
        /// Lines booked by an earlier import.
        let alreadyImported: Int
        /// Lines the ledger refused (line, reason).
        let refused: [(line: Int, reason: String)]
    }

    /// Who is paid for what now: the split rules, the published recordings, and the artists with payout settings.
    func rightsHolders() throws -> RightsHolders {
        var book = SplitBook()
        for stored in try storeCall({ () throws(StoreError) in try store.splitRules(content: nil) }) {
            let shares = stored.shares.map { Share(artist: $0.artist, basisPoints: UInt16(clamping: $0.basisPoints)) }
            guard let rule = try? SplitRule(content: stored.content, effectiveFrom: stored.effectiveFrom, shares: shares) else {
                throw ControlError(.serviceUnavailable, "storage_failure", "the stored split rule of \(stored.content) is not valid")
            }
            try? book.add(rule)
        }
        let recordings: [Catalog.Recording]
        do {
            recordings = try settings.recordings?.recordings() ?? []
        } catch {
            throw ControlError(.serviceUnavailable, "catalog_unavailable", "the published recordings cannot be read: \(error)")
        }
        let artists = try storeCall { () throws(StoreError) in try store.allPayoutSettings() }
        return RightsHolders(splits: book, catalog: Catalog(recordings: recordings, otherArtists: Set(artists.keys)))
    }

    func importStatement(_ statement: DSPStatement, dsp: String, period: Month, at time: Int64) throws -> Outcome {
        let earlier = try lines(dsp: dsp, period: period)
        let differences = StatementImport.differences(statement, earlier: earlier.byTransaction)
        if !differences.isEmpty {
            let named = differences.prefix(20).map(\.description).joined(separator: "; ")
            throw ControlError(.conflict, "statement_conflict",
                               "\(differences.count) lines disagree with an earlier import of \(dsp) \(period); nothing was imported: \(named)"
                               + (differences.count > 20 ? "; and \(differences.count - 20) more" : ""))
        }
        try Self.refuseUnreportable(statement, earlier: earlier)
        let document = StatementDocument(dsp: dsp, period: period.description, lines: statement.lines.map(StatementDocument.Line.init))
        let body = try Views.encoder().encode(document)
        let outcome = try storeCall { () throws(StoreError) in
            try store.putDocument(kind: StatementDocument.kind, id: document.id(encoded: body), body: body, at: time)
        }
        let bookings: [StatementImport.Booking]
        do {
            bookings = try StatementImport.book(statement, dsp: dsp, period: period, holders: try rightsHolders())
        } catch let error as LedgerError {
            throw ControlError(.unprocessableContent, "refused", error.description)
        }
        let booked = bookings.compactMap { booking in booking.transfer.map { (line: booking.line.number, transfer: $0) } }
        var committed = 0, already = 0
        var refused: [(line: Int, reason: String)] = []
        for start in stride(from: 0, to: booked.count, by: Self.batch) {
            let chunk = booked[start..<min(start + Self.batch, booked.count)]
            let results = try storeCall { () throws(StoreError) in try store.commit(chunk.map(\.transfer), at: time) }
            for (item, result) in zip(chunk, results) {
                switch result {
                case .success(.committed): committed += 1
                // Booked before: the earlier booking stands, even if the rules have changed since.
                case .success(.duplicate), .failure(.idempotencyConflict): already += 1
                case .failure(let error): refused.append((item.line, error.description))
                }
            }
        }
        if case .created = outcome { return Outcome(created: true, committed: committed, alreadyImported: already, refused: refused) }
        return Outcome(created: false, committed: committed, alreadyImported: already, refused: refused)
    }

    /// Every line imported so far for `dsp`'s statement of `period` (the first import of a transaction wins; later
    /// imports were checked to agree), in import order, and how many imports there were.
    func lines(dsp: String, period: Month) throws -> (ordered: [DSPStatement.Line], byTransaction: [String: DSPStatement.Line], imports: Int) {
        let documents = try storeCall { () throws(StoreError) in
            try store.documents(kind: StatementDocument.kind, idPrefix: StatementDocument.prefix(dsp: dsp, period: period))
        }
        var ordered: [DSPStatement.Line] = []
        var byTransaction: [String: DSPStatement.Line] = [:]
        for document in documents.sorted(by: { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }) {
            let stored: StatementDocument
            do {
                stored = try Views.decoder().decode(StatementDocument.self, from: document.body)
            } catch {
                throw ControlError(.serviceUnavailable, "storage_failure", "statement import \(document.id) does not decode: \(error)")
            }
            for line in stored.lines where byTransaction[line.transaction] == nil {
                guard let decoded = line.decoded else {
                    throw ControlError(.serviceUnavailable, "storage_failure", "statement import \(document.id): line \(line.number) does not decode")
                }
                byTransaction[line.transaction] = decoded
                ordered.append(decoded)
            }
        }
        return (ordered, byTransaction, documents.count)
    }

    /// The reconciliation report of `dsp`'s statement for `period`, from its imported lines and their ledger entries;
    /// nil when it was never imported.
    func report(dsp: String, period: Month) throws -> Views.StatementReport? {
        let (lines, _, imports) = try lines(dsp: dsp, period: period)
        guard imports > 0 else { return nil }
        let keys = lines.filter { $0.amount > 0 }.map { StatementImport.key(dsp: dsp, period: period, transaction: $0.transactionID) }
        let entries = try storeCall { () throws(StoreError) in try store.entries(keys: keys) }
        var report = Views.StatementReport(dsp: dsp, period: period.description, imports: imports, lines: lines.count)
        var totals: [String: Views.StatementTotal] = [:]
        for line in lines {
            let code = line.currency.code
            var total = totals[code] ?? Views.StatementTotal(currency: code)
            defer { totals[code] = total }
            try Self.add(line.amount, to: &total.revenue)
            guard line.amount > 0 else {
                report.zeroRevenue += 1
                continue
            }
            guard let entry = entries[StatementImport.key(dsp: dsp, period: period, transaction: line.transactionID)] else {
                report.notBooked += 1
                continue
            }
            let suspense = entry.transfer.postings.contains { if case .suspense = $0.account.kind { $0.side == .credit } else { false } }
            if suspense {
                report.suspense += 1
                try Self.add(line.amount, to: &total.toSuspense)
                if report.unmatched.count < Self.maximumListed {
                    report.unmatched.append(Views.UnmatchedLine(line: line.number, transaction: line.transactionID, isrc: line.isrc?.code,
                                                                content: line.contentID, artist: line.artistID, amount: line.amount,
                                                                currency: code, entry: entry.index))
                }
            } else {
                report.matched += 1
                try Self.add(line.amount, to: &total.toArtists)
            }
        }
        report.totals = totals.keys.sorted().map { totals[$0]! }
        return report
    }

    /// Refuses, before anything is stored or booked, a statement whose lines — with those imported before for the same
    /// DSP and month — add up past the 64-bit range in a currency: the reconciliation report of what was imported must
    /// always add up (the hostile run after issue 24 booked 9,222 lines of such a statement, then answered 422 for
    /// good).
    static func refuseUnreportable(_ statement: DSPStatement, earlier: (ordered: [DSPStatement.Line], byTransaction: [String: DSPStatement.Line], imports: Int)) throws {
        var totals: [String: Int64] = [:]
        let new = statement.lines.filter { earlier.byTransaction[$0.transactionID] == nil }
        for line in earlier.ordered + new {
            let (sum, overflow) = totals[line.currency.code, default: 0].addingReportingOverflow(line.amount)
            guard !overflow else {
                throw ControlError(.unprocessableContent, "overflow",
                                   "amount: the lines of \(line.currency.code) add up past the 64-bit range at line \(line.number); nothing was imported")
            }
            totals[line.currency.code] = sum
        }
    }

    private static func add(_ amount: Int64, to total: inout Int64) throws {
        let (sum, overflow) = total.addingReportingOverflow(amount)
        guard !overflow else { throw ControlError(.unprocessableContent, "overflow", "the statement's totals leave the 64-bit range") }
        total = sum
    }
}
