import Foundation
import Ledger
import LedgerStore
import Royalty
import Synchronization

/// Runs payout runs against the store: plans a run once (the plan is a write-once document, stored before any money
/// moves), then commits every planned payout under its own key — so running, or resuming after a crash, pays each
/// artist of the plan exactly once — and settles payouts (confirm, fail) one way only.
final class PayoutRunner: Sendable {
    /// A payout's state, read from the ledger's keys.
    enum Status: String, Sendable {
        /// Planned, not (yet) committed: the run was interrupted, or the ledger refused it.
        case pending
        case inFlight = "in_flight"
        case confirmed
        case failed
    }

    /// What running a run did.
    struct Outcome: Sendable {
        let created: Bool
        let plan: PayoutPlanDocument
        let plannedAt: Int64
        /// Payouts the ledger refused (artist, reason); every other payout of the plan is committed.
        let refused: [(artist: String, reason: String)]
    }

    /// Payouts committed per SQLite transaction.
    static let batch = 1_000

    let store: LedgerStore
    let settings: RoyaltySettings
    /// Held while a payout is settled, so a confirm and a fail of the same payout cannot both happen.
    private let settling = Mutex(())

    init(store: LedgerStore, settings: RoyaltySettings) {
        self.store = store
        self.settings = settings
    }

    /// Plans `run` unless it was planned before, then commits its payouts (each in as many parts as it needs). One
    /// artist's payout that cannot be made or is refused by the ledger is listed with the reason and never keeps the
    /// others from being paid.
    func run(_ run: PayoutRun.ID, at time: Int64) throws -> Outcome {
        let (plan, plannedAt, created) = try self.plan(run, at: time)
        var refused: [(artist: String, reason: String)] = []
        for start in stride(from: 0, to: plan.payouts.count, by: Self.batch) {
            var made: [(artist: String, transfers: [Transfer])] = []
            for stored in plan.payouts[start..<min(start + Self.batch, plan.payouts.count)] {
                guard let payout = PayoutPlanDocument.payout(stored) else {
                    refused.append((stored.artist, "the stored payout does not decode"))
                    continue
                }
                do {
                    made.append((payout.artist, try PayoutRun.transfers(payout, run: run)))
                } catch {
                    refused.append((payout.artist, "the payout makes no transfer: \(error)"))
                }
            }
            let results = try storeCall { () throws(StoreError) in
                try store.commit(made.flatMap(\.transfers), at: time)
            }
            var offset = 0
            for (artist, transfers) in made {
                let errors = results[offset..<offset + transfers.count].compactMap { result -> LedgerError? in
                    if case .failure(let error) = result { return error }
                    return nil
                }
                if let error = errors.first { refused.append((artist, error.description)) }
                offset += transfers.count
            }
        }
        return Outcome(created: created, plan: plan, plannedAt: plannedAt, refused: refused.sorted { $0.artist < $1.artist })
    }

    /// The stored plan of `run`, planning and storing it first if it has none (the plan a concurrent request stored
    /// first wins): the plan, when it was made, and whether this call made it.
    func plan(_ run: PayoutRun.ID, at time: Int64) throws -> (plan: PayoutPlanDocument, plannedAt: Int64, created: Bool) {
        if let (plan, plannedAt) = try existing(run) { return (plan, plannedAt, false) }
        guard let rates = settings.taxRates else {
            throw ControlError(.conflict, "no_tax_rates", "no withholding rates are configured ([royalty] tax_rates): no payout can be planned")
        }
        let balances = try storeCall { () throws(StoreError) in try store.artistBalances(currency: run.currency) }
        let stored = try storeCall { () throws(StoreError) in try store.allPayoutSettings() }
        let candidates = balances.map {
            PayoutRun.Candidate(artist: $0.artist, balance: $0.balance, settings: stored[$0.artist].flatMap(PayoutSettings.init(stored:)))
        }
        let document = PayoutPlanDocument(run: run, plan: PayoutRun.plan(currency: run.currency, candidates: candidates, rates: rates))
        let body = try Views.encoder().encode(document)
        switch try storeCall({ () throws(StoreError) in try store.putDocument(kind: PayoutPlanDocument.kind, id: run.description, body: body, at: time) }) {
        case .created:
            return (document, time, true)
        case .existing:
            guard let (plan, plannedAt) = try existing(run) else { throw ControlError(.serviceUnavailable, "storage_failure", "run \(run): no plan") }
            return (plan, plannedAt, false)
        }
    }

    /// The stored plan of `run`, if it was planned.
    func existing(_ run: PayoutRun.ID) throws -> (plan: PayoutPlanDocument, plannedAt: Int64)? {
        guard let document = try storeCall({ () throws(StoreError) in try store.document(kind: PayoutPlanDocument.kind, id: run.description) }) else {
            return nil
        }
        do {
            return (try Views.decoder().decode(PayoutPlanDocument.self, from: document.body), document.createdAt)
        } catch {
            throw ControlError(.serviceUnavailable, "storage_failure", "run \(run): the stored plan does not decode: \(error)")
        }
    }

    /// The status of each of `payouts` of `run` (by artist), with the ledger entry of its latest step: in flight once
    /// every part of the payout is committed, confirmed or failed once its settlement is.
    func statuses(_ run: PayoutRun.ID, payouts: [PayoutRun.Payout]) throws -> [String: (status: Status, entry: UInt64?)] {
        let parts = payouts.map { (artist: $0.artist, numbers: PayoutRun.parts($0).map(\.number)) }
        var keys: [String] = []
        for (artist, numbers) in parts {
            for part in numbers {
                keys += [PayoutRun.payoutKey(run, artist: artist, part: part), PayoutRun.confirmationKey(run, artist: artist, part: part),
                         PayoutRun.failureKey(run, artist: artist, part: part)]
            }
        }
        let found = try storeCall { () throws(StoreError) in try store.entries(keys: keys) }
        var statuses: [String: (status: Status, entry: UInt64?)] = [:]
        for (artist, numbers) in parts {
            let paid = numbers.map { found[PayoutRun.payoutKey(run, artist: artist, part: $0)] }
            if let entry = numbers.lazy.compactMap({ found[PayoutRun.confirmationKey(run, artist: artist, part: $0)] }).first {
                statuses[artist] = (.confirmed, entry.index)
            } else if let entry = numbers.lazy.compactMap({ found[PayoutRun.failureKey(run, artist: artist, part: $0)] }).first {
                statuses[artist] = (.failed, entry.index)
            } else if paid.allSatisfy({ $0 != nil }), let entry = paid.first ?? nil {
                statuses[artist] = (.inFlight, entry.index)
            } else {
                statuses[artist] = (.pending, nil)
            }
        }
        return statuses
    }

    /// Confirms (the money left) or fails (it came back) `artist`'s payout of `run`; settling it the same way again
    /// answers the first settlement, the other way is a conflict.
    func settle(_ run: PayoutRun.ID, artist: String, confirm: Bool, at time: Int64) throws -> (created: Bool, payout: PayoutRun.Payout, entry: LedgerEntry) {
        guard let (plan, _) = try existing(run) else { throw ControlError.notFound("no payout run \(run)") }
        guard let stored = plan.payouts.first(where: { $0.artist == artist }) else {
            if let skipped = plan.skipped.first(where: { $0.artist == artist }) {
                throw ControlError(.conflict, "not_paid", "\(artist) was not paid in run \(run): \(skipped.message)")
            }
            throw ControlError.notFound("\(artist) has no payout in run \(run)")
        }
        guard let payout = PayoutPlanDocument.payout(stored) else {
            throw ControlError(.serviceUnavailable, "storage_failure", "run \(run): the stored payout of \(artist) does not decode")
        }
        let transfers: [Transfer]
        do {
            transfers = confirm ? try PayoutRun.confirmations(payout, run: run) : try PayoutRun.failures(payout, run: run)
        } catch {
            throw ControlError(.serviceUnavailable, "storage_failure", "run \(run): the payout of \(artist) makes no transfer: \(error)")
        }
        return try settling.withLock { _ in
            let status = try statuses(run, payouts: [payout])[artist]?.status ?? .pending
            switch (status, confirm) {
            case (.pending, _):
                throw ControlError(.conflict, "not_in_flight", "the payout of \(artist) in run \(run) is not in flight (the run did not commit it; run it again)")
            case (.failed, true):
                throw ControlError(.conflict, "payout_failed", "the payout of \(artist) in run \(run) failed already: it cannot be confirmed")
            case (.confirmed, false):
                throw ControlError(.conflict, "payout_confirmed", "the payout of \(artist) in run \(run) was confirmed already: it cannot fail")
            default:
                break
            }
            let results = try storeCall { () throws(StoreError) in try store.commit(transfers, at: time) }
            var created = false
            for result in results {
                switch result {
                case .success(.committed): created = true
                case .success(.duplicate): break
                case .failure(let error): throw ControlError(.unprocessableContent, "refused", error.description)
                }
            }
            guard case .success(let outcome) = results[0] else { throw ControlError(.serviceUnavailable, "storage_failure", "run \(run): no settlement") }
            switch outcome {
            case .committed(let entry), .duplicate(let entry): return (created, payout, entry)
            }
        }
    }

    /// The instruction file of `method` for the payouts of `run` the ledger committed, made as of the plan.
    func file(_ run: PayoutRun.ID, method: String) throws -> (mediaType: String, text: String) {
        guard let (plan, plannedAt) = try existing(run) else { throw ControlError.notFound("no payout run \(run)") }
        let adapters: [any PayoutAdapter.Type] = [SEPAPayoutFile.self, ManualPayoutFile.self]
        guard let adapter = adapters.first(where: { $0.method == method }) else {
            throw ControlError.notFound("no payout method \"\(method.prefix(20))\" (sepa, csv)")
        }
        let payouts = try plan.decodedPayouts().enumerated().map { (number: $0.offset + 1, payout: $0.element) }.filter { $0.payout.method.name == method }
        let statuses = try statuses(run, payouts: payouts.map(\.payout))
        let committed = payouts.filter { statuses[$0.payout.artist]?.status != .pending }
        guard !committed.isEmpty else { throw ControlError.notFound("run \(run) paid nobody by \(method)") }
        do {
            return (adapter.mediaType, try adapter.file(run: run, payouts: committed, createdAt: plannedAt / 1000, debtor: settings.sepaDebtor))
        } catch {
            throw ControlError(.conflict, "no_payout_file", error.description)
        }
    }
}
