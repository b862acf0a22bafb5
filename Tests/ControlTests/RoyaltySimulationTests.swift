@testable import Control
import Foundation
import Ledger
import LedgerStore
import Manifest
import Royalty
import Testing
import TestSupport

/// A seeded simulation of the royalty service over a real ledger: delivery reports (duplicated, delayed, out of order,
/// re-sent by restarted nodes, contradicted), tips, subscription payments, split changes, DSP statements (re-imported,
/// extended, contradicted), the month's close, and payout runs cut short at a random point (as a kill -9 would) then run
/// again, confirmed and failed. After every step: every currency sums to zero, nobody was paid twice, and once the
/// month is closed its views are the ones the reports hold, counted once, and its royalties are exactly the pool.
@Suite struct RoyaltySimulationTests {
    static let nodes = ["edge-a", "edge-b", "edge-c"]
    static let signers = Dictionary(uniqueKeysWithValues: nodes.map { ($0, try! NoteSigner.generate(name: $0)) })
    static let artists = ["luna", "sol", "ray", "ana", "kim"]
    static let contents = ["song-0", "song-1", "song-2", "song-3", "song-4", "song-5"]
    static let month = Month("2026-11")!
    static let eur = try! Currency("EUR")

    struct Published: RecordingSource {
        func recordings() throws -> [Catalog.Recording] {
            // song-5 is published by nobody known: its views wait in suspense.
            (0..<5).map { Catalog.Recording(contentID: "song-\($0)", artistID: RoyaltySimulationTests.artists[$0], isrc: nil) }
        }
    }

    /// The world as the simulation knows it, to compare the ledger with.
    struct Expected {
        /// Media per (period, content, session) over the reports the origin took.
        var media: [Int64: [String: [SessionKey: UInt32]]] = [:]
        /// Reports the origin took, by node and period.
        var taken: [String: String] = [:]
        var closed = false
        var pool: Int64 = 0
        var runs = 0
    }

    @Test(arguments: [1, 2, 3, 4])
    func everyStepKeepsTheBooksExact(seed: UInt64) throws {
        let scratch = try TemporaryDirectory("royalty-sim")
        defer { scratch.remove() }
        let store = try LedgerStore(path: scratch.path + "/ledger.sqlite", verifier: nil)
        var settings = RoyaltySettings(taxRates: try TaxRates(csv: "country,rate_percent,source\nUS,30,x\nJP,20.42,x\n"), recordings: Published())
        settings.reportKeys = ReportKeys(Self.signers.mapValues(\.verifier))
        let statements = StatementImporter(store: store, settings: settings)
        let views = ViewAccounting(store: store, settings: settings, holders: { try statements.rightsHolders() })
        let payouts = PayoutRunner(store: store, settings: settings)
        for (index, artist) in Self.artists.enumerated() where index < 4 {
            try store.setPayoutSettings(.init(artist: artist, method: "csv", accountName: artist, destination: "wallet", bic: nil, minimum: 100,
                                              currency: "EUR", taxCountry: index % 2 == 0 ? "US" : "JP", updatedAt: 0))
        }
        var generator = SeededGenerator(seed: seed)
        var expected = Expected()
        var sentReports: [(node: String, body: Data, period: Int64)] = []
        var statementLines: [(content: String, usages: Int, cents: Int)] = []
        for step in 0..<250 {
            let action = Int.random(in: 0..<100, using: &generator)
            let now = Int64(1_796_000_000_000) + Int64(step) * 1_000
            switch action {
            case 0..<30:
                // A delivery report: a new one, or one sent before (a retry, a delayed copy, a restarted node's).
                if !sentReports.isEmpty, Bool.random(using: &generator) {
                    let old = sentReports.randomElement(using: &generator)!
                    try submit(old.body, node: old.node, views: views, expected: &expected, at: now)
                    break
                }
                let node = Self.nodes.randomElement(using: &generator)!
                let hour = Int64.random(in: 0..<(30 * 24), using: &generator)
                let period = Self.month.startSeconds + hour * 3_600
                var contents: [String: DeliveryReport.Content] = [:]
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    let key = SessionKey(high: UInt64(hour), low: UInt64.random(in: 0..<6, using: &generator))
                    let content = Self.contents.randomElement(using: &generator)!
                    contents[content, default: .init(bytes: 0, untrackedViews: 0, sessions: [:])].sessions[key] = UInt32.random(in: 5_000...30_000, using: &generator)
                    contents[content]!.bytes &+= 1_000
                }
                let report = DeliveryReport(node: node, period: period, periodSeconds: 3_600, contents: contents)
                let note = try Self.signers[node]!.sign(text: DeliveryReport.signedText(node: node, period: period, reportText: report.text))
                let body = try JSONSerialization.data(withJSONObject: ["report": report.text, "signature": note.rendered])
                sentReports.append((node, body, period))
                try submit(body, node: node, views: views, expected: &expected, at: now)
            case 30..<40:
                let artist = Self.artists.randomElement(using: &generator)!
                let key = "pi_\(Int.random(in: 0..<40, using: &generator))"
                let tip = try Tips.transfer(key: key, artist: artist, amount: Int64.random(in: 1...5_000, using: &generator), currency: Self.eur,
                                            source: "stripe", artistShareBasisPoints: 9_000)
                _ = try store.commit([tip], at: now)
            case 40..<48 where !expected.closed:
                let amount = Int64.random(in: 1...100_000, using: &generator)
                let payment = try Subscriptions.transfer(key: "in_\(step)", month: Self.month, amount: amount, currency: Self.eur, source: "stripe")
                if case .success(.committed) = try store.commit([payment], at: now)[0] { expected.pool += amount }
            case 48..<54:
                let content = Self.contents.randomElement(using: &generator)!
                let first = Self.artists.randomElement(using: &generator)!
                let second = Self.artists.filter { $0 != first }.randomElement(using: &generator)!
                let points = Int.random(in: 1...9_999, using: &generator)
                _ = try store.addSplitRule(.init(content: content, effectiveFrom: Self.month.startSeconds - 86_400 * Int64.random(in: 0...40, using: &generator),
                                                 shares: [.init(artist: first, basisPoints: points), .init(artist: second, basisPoints: 10_000 - points)]), at: now)
            case 54..<66:
                // A statement: the lines so far plus new ones; sometimes one old line changed (refused, nothing booked).
                var lines = statementLines
                for _ in 0..<Int.random(in: 0...3, using: &generator) {
                    lines.append(((Self.contents + ["unknown"]).randomElement(using: &generator)!, Int.random(in: 1...999, using: &generator),
                                  Int.random(in: 0...50_000, using: &generator)))
                }
                var contradicted = false
                if !statementLines.isEmpty, Int.random(in: 0..<4, using: &generator) == 0 {
                    lines[Int.random(in: 0..<statementLines.count, using: &generator)].usages += 1
                    contradicted = true
                }
                let text = lines.enumerated().map { "t\($0.offset),\($0.element.content),\($0.element.usages),\($0.element.cents / 100).\($0.element.cents % 100 < 10 ? "0" : "")\($0.element.cents % 100),EUR" }
                let statement = try DSPStatement(csv: "SalesTransactionId,ContentId,Usages,NetRevenue,Currency\n" + text.joined(separator: "\n") + "\n")
                let size = store.size
                do {
                    _ = try statements.importStatement(statement, dsp: "spotify", period: Self.month, at: now)
                    #expect(!contradicted, "step \(step): a contradicting statement was taken")
                    statementLines = lines
                } catch let error as ControlError {
                    #expect(contradicted && error.code == "statement_conflict" && store.size == size, "step \(step): \(error)")
                }
            case 66..<72:
                expected.closed = true
                _ = try views.close(Self.month, currency: Self.eur, at: now)
            case 72..<82:
                // A payout run, cut short at a random point the first time (as a kill -9 would), then run again.
                let run = PayoutRun.ID(month: Month("2026-\(10 + expected.runs % 3)") ?? Self.month, currency: Self.eur)
                if Bool.random(using: &generator), try payouts.existing(run) == nil {
                    let (plan, _, _) = try payouts.plan(run, at: now)
                    let transfers = try plan.decodedPayouts().flatMap { try PayoutRun.transfers($0, run: run) }
                    _ = try store.commit(Array(transfers.prefix(Int.random(in: 0...transfers.count, using: &generator))), at: now)
                } else {
                    _ = try payouts.run(run, at: now)
                    expected.runs += 1
                }
            case 82..<90:
                let run = PayoutRun.ID(month: Month("2026-\(10 + Int.random(in: 0..<3, using: &generator))")!, currency: Self.eur)
                let artist = Self.artists.randomElement(using: &generator)!
                _ = try? payouts.settle(run, artist: artist, confirm: Bool.random(using: &generator), at: now)
            default:
                break
            }
            try Self.check(store: store, views: views, expected: expected, step: step)
        }
        #expect(try store.verifyIntegrity().isIntact)
        #expect(expected.closed && expected.runs > 0 && !expected.taken.isEmpty, "the seed exercised the close, runs and reports")
    }

    /// Posts a report as the API would (the node's own), and notes what the origin must now hold.
    func submit(_ body: Data, node: String, views: ViewAccounting, expected: inout Expected, at time: Int64) throws {
        let submission = try Views.decoder().decode(ViewAccounting.Submission.self, from: body)
        let report = try DeliveryReport(text: submission.report)
        let id = "\(report.periodLabel)/\(node)"
        do {
            let (created, _) = try views.accept(submission, body: body, node: node, at: time)
            #expect(!expected.closed, "a report of a closed month was taken")
            #expect(created == (expected.taken[id] == nil), "\(id): created \(created)")
            if created {
                expected.taken[id] = submission.report
                for (content, delivered) in report.contents {
                    for (key, media) in delivered.sessions {
                        expected.media[report.period, default: [:]][content, default: [:]][key, default: 0] += media
                    }
                }
            }
        } catch let error as ControlError {
            #expect(expected.closed ? error.code == "period_closed" : error.code == "report_conflict", "\(id): \(error)")
        }
    }

    static func check(store: LedgerStore, views: ViewAccounting, expected: Expected, step: Int) throws {
        var sums: [String: Int64] = [:]
        var after: String?
        while true {
            let page = try store.balances(prefix: "", after: after, limit: 1_000)
            for row in page { sums[String(row.account.suffix(3)), default: 0] += row.balance }
            guard page.count == 1_000 else { break }
            after = page.last?.account
        }
        #expect(sums.values.allSatisfy { $0 == 0 }, "step \(step): a currency does not sum to zero: \(sums)")
        // Nobody paid twice: one payout entry per artist and run, and an artist's payouts never exceed what it earned.
        let entries = try store.entries(from: 0, to: store.size)
        var payoutKeys: Set<String> = []
        var earned: [String: Int64] = [:], paid: [String: Int64] = [:]
        for entry in entries {
            let key = entry.transfer.idempotencyKey
            if key.hasPrefix("payout:") { #expect(payoutKeys.insert(key).inserted, "step \(step): \(key) twice") }
            for posting in entry.transfer.postings {
                guard let artist = posting.account.artist else { continue }
                if key.hasPrefix("payout:") { paid[artist, default: 0] += posting.amount } else if posting.side == .credit { earned[artist, default: 0] += posting.amount }
            }
        }
        for (artist, amount) in paid { #expect(amount <= earned[artist, default: 0], "step \(step): \(artist) paid \(amount) of \(earned[artist, default: 0])") }
        // Every statement adds up: opening + earned − withheld − paid − pending + returned is the closing balance (issue
        // 24: a payout failed and returned left its tax in withheld and its net in no total), and the latest month
        // closes at the artist's balance.
        for artist in Self.artists {
            let mine = try store.artistEntries(artist)
            let settlements = try store.entries(keys: ArtistStatement.settlementKeys(artist: artist, entries: mine))
            let months = Set(mine.compactMap { Month(containing: $0.committedAt / 1000) }).sorted()
            for month in months {
                let statement = try ArtistStatement(artist: artist, period: month, entries: mine, settlements: settlements)
                for total in statement.totals {
                    #expect(total.accountedClosing == total.closing, "step \(step): \(artist) \(month): \(total)")
                }
                if month == months.last {
                    #expect(statement.totals.first { $0.currency == Self.eur }?.closing ?? 0 == (try store.balance(try Account(.artist(artist), Self.eur))),
                            "step \(step): \(artist)'s statement closes at its balance")
                }
            }
        }
        guard expected.closed, let closed = try store.document(kind: ViewAccounting.closeKind, id: month.description) else { return }
        let close = try Views.decoder().decode(ViewAccounting.Closed.self, from: closed.body)
        // Views counted once: a session's media across nodes, a view at 30 s.
        var views: [String: UInt64] = [:]
        for (_, contents) in expected.media {
            for (content, sessions) in contents {
                let count = UInt64(sessions.values.filter { $0 >= 30_000 }.count)
                if count > 0 { views[content, default: 0] += count }
            }
        }
        #expect(close.views.filter { $0.value > 0 } == views, "step \(step): \(close.views) ≠ \(views)")
        let booked = close.amounts.values.reduce(0, +)
        #expect(views.isEmpty || booked == expected.pool, "step \(step): royalties \(booked) of a pool of \(expected.pool)")
        let committed = entries.filter { $0.transfer.idempotencyKey.hasPrefix("royalty:views:") }
            .flatMap(\.transfer.postings).filter { $0.side == .debit }.reduce(Int64(0)) { $0 + $1.amount }
        #expect(committed == booked, "step \(step): \(committed) booked of \(booked)")
    }
}
