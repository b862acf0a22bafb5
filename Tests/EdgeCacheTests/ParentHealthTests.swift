import Testing
@testable import EdgeCache

@Suite struct ParentHealthTests {
    static let second: UInt64 = 1_000_000_000

    @Test func healthyParentsComeFirstInConfiguredOrder() {
        var health = ParentHealth(parents: ["mesh-a", "mesh-b", "origin"])
        #expect(health.order(now: 0) == ["mesh-a", "mesh-b", "origin"])
        health.failed("mesh-a", now: 0)
        #expect(health.isBad("mesh-a", now: 1))
        #expect(health.order(now: 1) == ["mesh-b", "origin", "mesh-a"], "a bad parent is tried last, not dropped")
    }

    @Test func thePenaltyDoublesAndIsCappedAndExpires() {
        var health = ParentHealth(parents: ["p"], settings: .init(basePenaltyNanoseconds: 10 * Self.second, maximumPenaltyNanoseconds: 60 * Self.second))
        #expect(health.failed("p", now: 0) == 10 * Self.second)
        #expect(health.failed("p", now: 0) == 20 * Self.second)
        #expect(health.failed("p", now: 0) == 40 * Self.second)
        #expect(health.failed("p", now: 0) == 60 * Self.second)
        for _ in 0..<100 { health.failed("p", now: 0) }
        #expect(health.failed("p", now: 0) == 60 * Self.second, "no overflow after many strikes")
        #expect(health.isBad("p", now: 59 * Self.second))
        #expect(!health.isBad("p", now: 60 * Self.second))
        health.succeeded("p")
        #expect(health.failed("p", now: 0) == 10 * Self.second, "success clears the strikes")
    }

    @Test func badParentsAreOrderedByWhenTheyAreForgiven() {
        var health = ParentHealth(parents: ["a", "b", "c"])
        health.failed("a", now: 0)
        health.failed("a", now: 0)
        health.failed("b", now: 0)
        #expect(health.order(now: 1) == ["c", "b", "a"])
    }

    @Test func aNewListKeepsTheRecordsOfUnchangedParentsOnly() {
        var health = ParentHealth(parents: ["a", "b", "c"])
        health.failed("a", now: 0)
        health.failed("b", now: 0)
        health.failed("c", now: 0)
        let next = health.replacingParents(["c", "b", "d"], keeping: ["a", "b"])
        #expect(next.parents == ["c", "b", "d"])
        #expect(next.isBad("b", now: 1), "unchanged: still serving its penalty")
        #expect(!next.isBad("c", now: 1), "changed (moved): starts healthy")
        #expect(!next.isBad("d", now: 1) && !next.isBad("a", now: 1), "new, and no longer listed")
        #expect(next.order(now: 1) == ["c", "d", "b"])
        var kept = next
        #expect(kept.failed("b", now: 2) == 2 * next.settings.basePenaltyNanoseconds, "the strikes carried over too")
    }
}
