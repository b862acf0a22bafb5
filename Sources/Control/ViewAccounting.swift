import Foundation
import Ledger
import LedgerStore
import Manifest
import Royalty
import Synchronization

/// The network's views on the origin: nodes' signed delivery reports, kept once per node and period (a write-once
/// document `deliveries` `YYYY-MM-DDThh/NODE`), and a month's close, which tallies them (a session served by several
/// nodes is one view), turns views into royalties by the configured model and books them — once: the close's result
/// is a write-once document `view-close` `YYYY-MM`, stored before any money moves, and every transfer has its key.
/// Reports of a closed month are refused, and so is a report that would take a month's sums past the 64-bit range
/// (`ViewTally.Bounds`, kept per month under the lock).
///
/// One lock, one rule: it guards the per-month sums and acceptance counts, and what is decided under it is short —
/// storing one report, or storing a close that was computed outside it. A month's close reads, tallies and prices every
/// report without the lock (55 s at 10^7 views), then stores its result only if no report of the month was accepted
/// meanwhile (else it computes again), so no report slips past a close and no close blocks a report for long.
final class ViewAccounting: Sendable {
    static let reportKind = "deliveries"
    static let closeKind = "view-close"

    let store: LedgerStore
    let settings: RoyaltySettings
    let holders: @Sendable () throws -> RightsHolders
    /// Per month: what its accepted reports add up to (read from the store at its first report since start), and how
    /// many were accepted since start (a close computed outside the lock checks it did not change).
    private let lock = Mutex<(bounds: [Month: ViewTally.Bounds], accepted: [Month: UInt64])>(([:], [:]))
    /// Times a close computes again because reports arrived while it computed, before it computes under the lock.
    static let closeAttempts = 3

    init(store: LedgerStore, settings: RoyaltySettings, holders: @escaping @Sendable () throws -> RightsHolders) {
        self.store = store
        self.settings = settings
        self.holders = holders
    }

    /// A report as a node sends it: its canonical text and the signed note over it. Decoding refuses any other key,
    /// so a body that decodes can be kept as it came.
    struct Submission: Codable, Sendable {
        var report: String
        var signature: String

        init(report: String, signature: String) {
            self.report = report
            self.signature = signature
        }

        private enum CodingKeys: String, CodingKey { case report, signature }

        private struct AnyKey: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            guard Set(keys) == ["report", "signature"], keys.count == 2 else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "exactly report and signature"))
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            report = try container.decode(String.self, forKey: .report)
            signature = try container.decode(String.self, forKey: .signature)
        }
    }

    /// Accepts `submission` (decoded from `body`, which is kept as it came) from `node`: true when it is new, false when
    /// the same report was accepted before. Only the report's sums are held (`DeliveryReport.Summary`), not its
    /// sessions: the origin's memory for a report at the size limit is its body and text, not four million entries.
    /// A report whose period ends after `latestPeriodEnd` (Unix seconds, when given) is refused: nodes report ended
    /// periods only.
    func accept(_ submission: Submission, body: Data, node: String, at time: Int64,
                latestPeriodEnd: Int64? = nil) throws -> (created: Bool, report: DeliveryReport.Summary) {
        guard let verifier = settings.reportKeys[node] else {
            throw ControlError(.forbidden, "no_report_key", "node \(node) has no report key in nodes.conf (report_key): its reports cannot be checked")
        }
        let report: DeliveryReport.Summary
        do {
            report = try DeliveryReport.verifySummary(text: submission.report, note: submission.signature, node: node, verifier: verifier)
        } catch {
            throw ControlError(.badRequest, "invalid_report", error.description)
        }
        guard let month = Month(containing: report.period) else { throw ControlError(.badRequest, "invalid_report", "the period is outside 2000...9999") }
        // The period is at most 9999-12-31 and at most a day long: the sum cannot overflow.
        if let latestPeriodEnd, report.period + report.periodSeconds > latestPeriodEnd {
            throw ControlError(.conflict, "period_not_over", "the report's period \(report.periodLabel) has not ended: a node reports a period once it ended")
        }
        // A month's sums after a restart come from every report stored (long): read without the lock, used if no
        // report of the month was accepted meanwhile.
        let known = lock.withLock { state in (summed: state.bounds[month] != nil, accepted: state.accepted[month] ?? 0) }
        let prepared = known.summed ? nil : try Self.overflowChecked { try ViewTally.Bounds(reports: try summaries(month)) }
        return try lock.withLock { state in
            if try storeCall({ () throws(StoreError) in try store.document(kind: Self.closeKind, id: month.description) }) != nil {
                throw ControlError(.conflict, "period_closed", "the views of \(month) were closed: a report of \(report.periodLabel) comes too late")
            }
            let id = "\(report.periodLabel)/\(node)"
            if let stored = try storeCall({ () throws(StoreError) in try store.document(kind: Self.reportKind, id: id) }) {
                return (false, try Self.same(stored.body, submission, node: node, report: report))
            }
            let current = state.bounds[month] ?? (state.accepted[month] ?? 0 == known.accepted ? prepared : nil)
            var sums = try current ?? Self.overflowChecked { try ViewTally.Bounds(reports: try summaries(month)) }
            try Self.overflowChecked { try sums.add(report) }
            switch try storeCall({ () throws(StoreError) in try store.putDocument(kind: Self.reportKind, id: id, body: body, at: time) }) {
            case .created:
                state.bounds[month] = sums
                state.accepted[month, default: 0] += 1
                return (true, report)
            case .existing(let stored):
                return (false, try Self.same(stored.body, submission, node: node, report: report))
            }
        }
    }

    /// `report` again when the stored submission is the same report; a conflict otherwise.
    private static func same(_ stored: Data, _ submission: Submission, node: String, report: DeliveryReport.Summary) throws -> DeliveryReport.Summary {
        guard let earlier = try? Views.decoder().decode(Submission.self, from: stored), earlier.report == submission.report else {
            throw ControlError(.conflict, "report_conflict", "another report of \(node) for \(report.periodLabel) was accepted before")
        }
        return report
    }

    /// Runs `body`, answering a sum past the 64-bit range as a 422 naming the report's field.
    static func overflowChecked<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let overflow as ViewTally.Overflow {
            throw ControlError(.unprocessableContent, "overflow", "\(overflow.field): \(overflow)")
        }
    }

    /// The sums of `month`'s reports so far.
    func summaries(_ month: Month) throws -> [DeliveryReport.Summary] {
        let documents = try storeCall { () throws(StoreError) in try store.documents(kind: Self.reportKind, idPrefix: "\(month)-") }
        return try documents.map { document in
            guard let submission = try? Views.decoder().decode(Submission.self, from: document.body),
                  let report = try? DeliveryReport.Summary(text: submission.report) else {
                throw ControlError(.serviceUnavailable, "storage_failure", "the stored report \(document.id) does not decode")
            }
            return report
        }
    }

    /// The reports of `month` so far.
    func reports(_ month: Month) throws -> [DeliveryReport] {
        let documents = try storeCall { () throws(StoreError) in try store.documents(kind: Self.reportKind, idPrefix: "\(month)-") }
        return try documents.map { document in
            guard let submission = try? Views.decoder().decode(Submission.self, from: document.body),
                  let report = try? DeliveryReport(text: submission.report) else {
                throw ControlError(.serviceUnavailable, "storage_failure", "the stored report \(document.id) does not decode")
            }
            return report
        }
    }

    /// A month's close as stored: the tally, and every transfer it books (so resuming books exactly what was decided).
    struct Closed: Codable, Sendable {
        struct Booking: Codable, Sendable {
            var key: String
            var memo: String
            var debit: String
            var credits: [Credit]
        }

        struct Credit: Codable, Sendable {
            var account: String
            var amount: Int64
        }

        var period: String
        var currency: String
        var model: String
        var reports: Int
        var views: [String: UInt64]
        var amounts: [String: Int64]
        var unassigned: [String: Int64]
        var bookings: [Booking]

        /// The stored bookings as transfers.
        func transfers() throws -> [Transfer] {
            try bookings.map { booking in
                do {
                    let debit = try Account(parsing: booking.debit)
                    let credits = try booking.credits.map { credit throws(LedgerError) in Transfer.Posting(.credit, try Account(parsing: credit.account), credit.amount) }
                    guard let total = credits.map(\.amount).checkedSum else {
                        throw LedgerError.invalidAmount("the credits of \(booking.key) leave the 64-bit range")
                    }
                    return try Transfer(idempotencyKey: booking.key, kind: .royalty, postings: [Transfer.Posting(.debit, debit, total)] + credits,
                                        memo: booking.memo)
                } catch {
                    throw ControlError(.serviceUnavailable, "storage_failure", "the stored close of \(period) does not make transfers: \(error)")
                }
            }
        }
    }

    /// Closes `month` in `currency` unless it was closed before (then the stored close is answered; another currency is
    /// a conflict), and books its transfers. Returns the close, whether this call made it, and refusals by content.
    func close(_ month: Month, currency: Currency, at time: Int64) throws -> (closed: Closed, created: Bool, refused: [String: String]) {
        var outcome: (closed: Closed, created: Bool)?
        for _ in 0..<Self.closeAttempts where outcome == nil {
            let seen = try lock.withLock { state throws -> (stored: Closed?, accepted: UInt64) in
                (try storedClose(month, currency: currency), state.accepted[month] ?? 0)
            }
            if let stored = seen.stored {
                outcome = (stored, false)
                break
            }
            let computed = try compute(month, currency: currency)
            outcome = try lock.withLock { state throws -> (Closed, Bool)? in
                if let stored = try storedClose(month, currency: currency) { return (stored, false) }
                guard state.accepted[month] ?? 0 == seen.accepted else { return nil }
                try put(computed, month: month, at: time)
                state.bounds[month] = nil
                return (computed, true)
            }
        }
        if outcome == nil {
            // Reports kept arriving while it computed: close with the lock held, as one step.
            outcome = try lock.withLock { state throws -> (Closed, Bool) in
                if let stored = try storedClose(month, currency: currency) { return (stored, false) }
                let computed = try compute(month, currency: currency)
                try put(computed, month: month, at: time)
                state.bounds[month] = nil
                return (computed, true)
            }
        }
        let (closed, created) = outcome!
        var refused: [String: String] = [:]
        let transfers = try closed.transfers()
        let results = try storeCall { () throws(StoreError) in try store.commit(transfers, at: time) }
        for (transfer, result) in zip(transfers, results) {
            switch result {
            case .success, .failure(.idempotencyConflict): continue
            case .failure(let error): refused[transfer.idempotencyKey] = error.description
            }
        }
        return (closed, created, refused)
    }

    /// The close of `month` stored before, if any (in another currency: a conflict).
    private func storedClose(_ month: Month, currency: Currency) throws -> Closed? {
        guard let stored = try storeCall({ () throws(StoreError) in try store.document(kind: Self.closeKind, id: month.description) }) else {
            return nil
        }
        guard let closed = try? Views.decoder().decode(Closed.self, from: stored.body) else {
            throw ControlError(.serviceUnavailable, "storage_failure", "the stored close of \(month) does not decode")
        }
        guard closed.currency == currency.code else {
            throw ControlError(.conflict, "closed_in_other_currency", "the views of \(month) were closed in \(closed.currency)")
        }
        return closed
    }

    /// The close of `month` from its reports as stored now: the tally, the model's amounts, the bookings. Long (it reads
    /// every report of the month); takes no lock.
    private func compute(_ month: Month, currency: Currency) throws -> Closed {
        let reports = try reports(month)
        let tally = try Self.overflowChecked { try ViewTally(reports: reports, thresholdMilliseconds: settings.viewThresholdMilliseconds) }
        let model: ViewRoyalties.Model
        switch settings.viewModel {
        case .perView(let rates):
            guard let rate = rates[currency.code] else {
                throw ControlError(.conflict, "no_rate", "the per_view rate card has no rate in \(currency.code) ([royalty] per_view_rates)")
            }
            model = .perView(ratePerThousand: rate)
        case .proRata:
            let revenue = try Account(.platformRevenue, currency)
            guard let pool = try storeCall({ () throws(StoreError) in
                try store.credited(to: revenue, keyPrefix: Subscriptions.keyPrefix(month: month))
            }) else { throw ControlError(.unprocessableContent, "overflow", "the month's subscription pool leaves the 64-bit range") }
            model = .proRata(pool: pool)
        }
        let amounts = ViewRoyalties.amounts(model, views: tally.views)
        let booked: ViewRoyalties.Close
        do {
            booked = try ViewRoyalties.close(period: month.description, model: model, currency: currency, amounts: amounts,
                                             holders: try holders(), at: month.startSeconds)
        } catch let error as LedgerError {
            throw ControlError(.unprocessableContent, "refused", error.description)
        }
        let bookings = booked.transfers.map { transfer in
            Closed.Booking(key: transfer.idempotencyKey, memo: transfer.memo,
                           debit: transfer.postings.first { $0.side == .debit }?.account.description ?? "",
                           credits: transfer.postings.filter { $0.side == .credit }.map { Closed.Credit(account: $0.account.description, amount: $0.amount) })
        }
        return Closed(period: month.description, currency: currency.code, model: model.name, reports: tally.reports, views: tally.views,
                      amounts: amounts, unassigned: booked.unassigned, bookings: bookings)
    }

    /// Stores the close (write-once) before any of its money moves.
    private func put(_ closed: Closed, month: Month, at time: Int64) throws {
        let body = try Views.encoder().encode(closed)
        _ = try storeCall { () throws(StoreError) in try store.putDocument(kind: Self.closeKind, id: month.description, body: body, at: time) }
    }
}
