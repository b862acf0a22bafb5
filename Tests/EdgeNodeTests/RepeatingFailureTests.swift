import Testing
@testable import EdgeNode

@Suite struct RepeatingFailureTests {
    static let second: UInt64 = 1_000_000_000

    @Test func aRepeatedReasonIsNewsOnlyWhenItChangesOrTheIntervalPasses() {
        let failure = RepeatingFailure(intervalSeconds: 600)
        #expect(failure.isNews("not trusted", now: 0))
        #expect(!failure.isNews("not trusted", now: 2 * Self.second), "the same reason at the next tick")
        #expect(failure.isNews("does not speak TLS", now: 4 * Self.second), "another reason")
        #expect(!failure.isNews("does not speak TLS", now: 603 * Self.second))
        #expect(failure.isNews("does not speak TLS", now: 604 * Self.second), "ten minutes later")
        failure.cleared()
        #expect(failure.isNews("does not speak TLS", now: 605 * Self.second), "after a success")
    }
}
