import Ledger
import Testing
@testable import Royalty

/// Views into royalties: both models, collaborator splits by the rule in force, exact sums, suspense for contents
/// nobody is known for, and transfers keyed per period.
@Suite struct ViewRoyaltiesTests {
    static let eur = try! Currency("EUR")

    @Test func splitRulesAreValidatedAndVersioned() throws {
        #expect(throws: SplitRule.Invalid.sum(9_999)) {
            try SplitRule(content: "c", effectiveFrom: 0, shares: [Share(artist: "a", basisPoints: 5_000), Share(artist: "b", basisPoints: 4_999)])
        }
        #expect(throws: SplitRule.Invalid.duplicateArtist("a")) {
            try SplitRule(content: "c", effectiveFrom: 0, shares: [Share(artist: "a", basisPoints: 5_000), Share(artist: "a", basisPoints: 5_000)])
        }
        #expect(throws: SplitRule.Invalid.zeroShare(artist: "b")) {
            try SplitRule(content: "c", effectiveFrom: 0, shares: [Share(artist: "a", basisPoints: 10_000), Share(artist: "b", basisPoints: 0)])
        }
        #expect(throws: SplitRule.Invalid.noShares) { try SplitRule(content: "c", effectiveFrom: 0, shares: []) }
        #expect(throws: SplitRule.Invalid.tooManyShares(64)) {
            try SplitRule(content: "c", effectiveFrom: 0, shares: (0..<64).map { Share(artist: "a\($0)", basisPoints: 157) })
        }
        var book = SplitBook()
        let solo = try SplitRule(content: "c", effectiveFrom: 100, shares: [Share(artist: "a", basisPoints: 10_000)])
        let duo = try SplitRule(content: "c", effectiveFrom: 200, shares: [Share(artist: "a", basisPoints: 6_000), Share(artist: "b", basisPoints: 4_000)])
        try book.add(duo)
        try book.add(solo)
        try book.add(solo)
        #expect(throws: SplitRule.Invalid.conflicting(effectiveFrom: 100)) {
            try book.add(SplitRule(content: "c", effectiveFrom: 100, shares: [Share(artist: "b", basisPoints: 10_000)]))
        }
        #expect(book.rule(for: "c", at: 99) == nil && book.rule(for: "c", at: 100) == solo && book.rule(for: "c", at: 199) == solo)
        #expect(book.rule(for: "c", at: 200) == duo && book.rule(for: "other", at: 200) == nil)
        #expect(duo.split(101).map(\.amount) == [61, 40], "60.6 / 40.4: the larger remainder takes the unit")
    }

    @Test func perViewPaysTheRateCardAndProRataSplitsThePoolExactly() {
        #expect(ViewRoyalties.amounts(.perView(ratePerThousand: 400), views: ["a": 2_500, "b": 1, "c": 0]) == ["a": 1_000, "b": 0])
        #expect(ViewRoyalties.amounts(.perView(ratePerThousand: .max), views: ["a": .max]) == ["a": .max], "capped, never trapping")
        let pool = ViewRoyalties.amounts(.proRata(pool: 1_000), views: ["a": 1, "b": 1, "c": 1])
        #expect(pool == ["a": 334, "b": 333, "c": 333])
        #expect(ViewRoyalties.amounts(.proRata(pool: 1_000), views: [:]).isEmpty)
    }

    /// Seeded: random views, pools and splits; every close moves exactly the pool out of platform revenue (less what
    /// waits in suspense), every transfer balances, closing again yields the same keys.
    @Test func aPoolIsPaidOutToTheUnitAndClosingAgainChangesNothing() throws {
        var generator = SplitMix(seed: 21)
        for round in 0..<300 {
            var book = SplitBook()
            var views: [String: UInt64] = [:]
            for index in 0..<Int.random(in: 1...30, using: &generator) {
                views["content-\(index)"] = UInt64.random(in: 0...5_000_000, using: &generator)
                guard Int.random(in: 0..<10, using: &generator) > 0 else { continue }
                var left = 10_000
                var shares: [Share] = []
                for artist in 0..<Int.random(in: 1...5, using: &generator) where left > 0 {
                    let points = artist == 4 ? left : Int.random(in: 1...left, using: &generator)
                    shares.append(Share(artist: "artist-\(index)-\(artist)", basisPoints: UInt16(points)))
                    left -= points
                }
                if left > 0 { shares.append(Share(artist: "artist-\(index)-last", basisPoints: UInt16(left))) }
                try book.add(SplitRule(content: "content-\(index)", effectiveFrom: 0, shares: shares))
            }
            let pool = Int64.random(in: 0...10_000_000_000, using: &generator)
            let amounts = ViewRoyalties.amounts(.proRata(pool: pool), views: views)
            let close = try ViewRoyalties.close(period: "2026-11", model: .proRata(pool: pool), currency: Self.eur, amounts: amounts,
                                                holders: RightsHolders(splits: book, catalog: Catalog(recordings: [])), at: 1_000)
            let paid = close.transfers.flatMap(\.postings).filter { $0.side == .debit }.reduce(Int64(0)) { $0 + $1.amount }
            let credited = close.transfers.flatMap(\.postings).filter { $0.side == .credit }.reduce(Int64(0)) { $0 + $1.amount }
            let suspense = close.transfers.flatMap(\.postings).filter { $0.account.description == "suspense/views/EUR" }.reduce(Int64(0)) { $0 + $1.amount }
            #expect(paid == credited, "round \(round): every transfer balances")
            #expect(suspense == close.unassigned.values.reduce(0, +), "round \(round): unassigned contents wait in suspense")
            if views.values.contains(where: { $0 > 0 }) {
                #expect(paid == pool, "round \(round): \(paid) of \(pool)")
            }
            let again = try ViewRoyalties.close(period: "2026-11", model: .proRata(pool: pool), currency: Self.eur, amounts: amounts,
                                                holders: RightsHolders(splits: book, catalog: Catalog(recordings: [])), at: 1_000)
            #expect(again.transfers.map(\.idempotencyKey) == close.transfers.map(\.idempotencyKey))
            #expect(Set(close.transfers.map(\.idempotencyKey)).count == close.transfers.count)
        }
    }
}
