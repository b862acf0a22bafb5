import EdgeCache
import Foundation
import Ledger
import LedgerStore
import Manifest
import Testing
import TestSupport

/// A seeded randomized simulation of concurrent clients against the real store through group commit: new transfers
/// (some overdrawing protected accounts), retries of earlier requests, and key reuse with other bodies, submitted
/// concurrently; after every step the ledger's invariants are checked against the database itself.
@Suite struct ConcurrentSimulationTests {
    static let artists = ["luna", "sol", "mar"]
    static let currencies = ["EUR", "JPY", "KWD"]

    static func account(_ text: String) -> Account { try! Account(parsing: text) }

    /// A random transfer: money in from a DSP, an artist paying tax, a payout, or a tip between artists.
    static func randomTransfer(key: String, using generator: inout SplitMix64) -> Transfer {
        let artist = artists.randomElement(using: &generator)!
        let currency = currencies.randomElement(using: &generator)!
        let amount = Int64.random(in: 1...5_000, using: &generator)
        let postings: [Transfer.Posting]
        switch Int.random(in: 0..<10, using: &generator) {
        case 0..<5:
            postings = [.init(.debit, account("external/dsp-\(Int.random(in: 0..<2, using: &generator))/\(currency)"), amount),
                        .init(.credit, account("artist/\(artist)/\(currency)"), amount)]
        case 5, 6:
            postings = [.init(.debit, account("artist/\(artist)/\(currency)"), amount), .init(.credit, account("tax/FR/\(currency)"), amount)]
        case 7, 8:
            postings = [.init(.debit, account("artist/\(artist)/\(currency)"), amount),
                        .init(.credit, account("payouts/in-flight/\(currency)"), amount)]
        default:
            let other = artists.filter { $0 != artist }.randomElement(using: &generator)!
            postings = [.init(.debit, account("artist/\(artist)/\(currency)"), amount), .init(.credit, account("artist/\(other)/\(currency)"), amount)]
        }
        return try! Transfer(idempotencyKey: key, kind: .royalty, postings: postings)
    }

    enum Answer: Sendable {
        case committed(LedgerEntry)
        case duplicate(LedgerEntry)
        case refused(LedgerError)
    }

    @Test(arguments: [UInt64(11), 2_024, 77_777])
    func invariantsHoldAfterEveryStep(seed: UInt64) async throws {
        let scratch = try TemporaryDirectory("ledger-sim")
        defer { scratch.remove() }
        let store = try LedgerStore(path: scratch.path + "/ledger.sqlite", verifier: nil)
        var settings = GroupCommitter.Settings()
        settings.maximumBatch = 16
        let committer = GroupCommitter(store: store, settings: settings)
        var generator = SplitMix64(seed: seed)
        var submitted: [Transfer] = []
        var committedByKey: [String: LedgerEntry] = [:]
        var counts = (committed: 0, duplicate: 0, conflict: 0, negative: 0)
        for step in 0..<40 {
            var requests: [Transfer] = []
            for _ in 0..<Int.random(in: 1...48, using: &generator) {
                let roll = Int.random(in: 0..<10, using: &generator)
                if roll < 2, let earlier = submitted.randomElement(using: &generator) {
                    requests.append(earlier)
                } else if roll == 2, let earlier = submitted.randomElement(using: &generator) {
                    requests.append(Self.randomTransfer(key: earlier.idempotencyKey, using: &generator))
                } else {
                    requests.append(Self.randomTransfer(key: "s\(seed)-\(step)-\(requests.count)", using: &generator))
                }
            }
            // Same-step duplicates of a new key race each other: exactly one of them may commit.
            if let first = requests.first, Bool.random(using: &generator) { requests.append(first) }
            let answers = await withTaskGroup(of: (Int, Answer).self) { group in
                for (position, transfer) in requests.enumerated() {
                    group.addTask {
                        do {
                            switch try await committer.submit(transfer) {
                            case .committed(let entry): return (position, .committed(entry))
                            case .duplicate(let entry): return (position, .duplicate(entry))
                            }
                        } catch let error as LedgerError {
                            return (position, .refused(error))
                        } catch {
                            Issue.record("store failure: \(error)")
                            return (position, .refused(.malformedEntry("\(error)")))
                        }
                    }
                }
                var answers: [(Int, Answer)] = []
                for await answer in group { answers.append(answer) }
                return answers.sorted { $0.0 < $1.0 }
            }
            let committedBefore = committedByKey
            // Committed answers first: a duplicate in the same step may be answered before its original is seen here.
            for (position, answer) in answers {
                if case .committed(let entry) = answer {
                    let key = requests[position].idempotencyKey
                    #expect(committedByKey[key] == nil, "step \(step): key \(key) took effect twice")
                    #expect(entry.transfer == requests[position])
                    committedByKey[key] = entry
                    counts.committed += 1
                }
            }
            for (position, answer) in answers {
                let request = requests[position]
                switch answer {
                case .committed:
                    break
                case .duplicate(let entry):
                    #expect(committedByKey[request.idempotencyKey] == entry && entry.transfer == request, "step \(step): a retry got another entry")
                    counts.duplicate += 1
                case .refused(.idempotencyConflict(let key)):
                    #expect(committedByKey[key].map { $0.transfer != request } == true, "step \(step): conflict on \(key) without a different body")
                    counts.conflict += 1
                case .refused(.negativeBalance):
                    // A refusal takes no effect and does not hold the key: the same request may commit later in this
                    // step once funds arrived, but a key committed in an earlier step must answer as a duplicate.
                    #expect(committedBefore[request.idempotencyKey] == nil, "step \(step): a committed key was refused")
                    counts.negative += 1
                case .refused(let error):
                    Issue.record("step \(step): unexpected refusal \(error)")
                }
            }
            submitted += requests
            try Self.checkInvariants(store: store, committed: committedByKey, step: step)
        }
        // The mix exercised every path.
        #expect(counts.committed > 200 && counts.duplicate > 20 && counts.conflict > 20 && counts.negative > 20, "\(counts)")
        #expect(await committer.transactions < counts.committed + counts.duplicate + counts.conflict + counts.negative)
    }

    /// Reads the database back and checks every invariant against a replay of its own entries.
    static func checkInvariants(store: LedgerStore, committed: [String: LedgerEntry], step: Int) throws {
        let entries = try store.entries(from: 0, to: store.size)
        #expect(entries.count == committed.count, "step \(step): \(entries.count) entries for \(committed.count) committed keys")
        var replay = LedgerBook()
        for entry in entries {
            #expect(committed[entry.transfer.idempotencyKey] == entry, "step \(step): entry \(entry.index) was not acknowledged as such")
            guard case .committed(let replayed) = try replay.commit(entry.transfer, at: entry.committedAt), replayed == entry else {
                Issue.record("step \(step): entry \(entry.index) does not replay")
                return
            }
        }
        #expect(replay.violations().isEmpty, "step \(step): \(replay.violations())")
        #expect(replay.log.root() == store.root(size: store.size), "step \(step): stored log root differs from the rebuild")
        let stored = try store.balances(prefix: "", after: nil, limit: 10_000)
        var perCurrency: [String: Int64] = [:]
        for row in stored {
            let account = try Account(parsing: row.account)
            perCurrency[account.currency.code, default: 0] += row.balance
            #expect(!(account.forbidsNegativeBalance && row.balance < 0), "step \(step): \(row.account) is \(row.balance)")
            #expect(replay.balances[account, default: 0] == row.balance, "step \(step): \(row.account) stored \(row.balance)")
            let history = try store.history(of: account, after: nil, limit: 100_000)
            #expect(history.reduce(Int64(0)) { $0 + ($1.side == .credit ? $1.amount : -$1.amount) } == row.balance,
                    "step \(step): the history of \(row.account) does not add up to its balance")
        }
        for (currency, total) in perCurrency { #expect(total == 0, "step \(step): Σ credits − debits in \(currency) = \(total)") }
    }
}
