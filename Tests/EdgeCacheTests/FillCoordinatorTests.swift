import Testing
@testable import EdgeCache

@Suite struct FillCoordinatorTests {
    typealias Coordinator = FillCoordinator<String, Int>
    static let second: UInt64 = 1_000_000_000

    @Test func twoHundredConcurrentMissesMakeOneFillAndAllStreamFromTheFirstChunk() {
        var coordinator = Coordinator()
        var directives: [Coordinator.Directive] = []
        for waiter in 0..<200 { directives += coordinator.request(waiter, object: "seg", chunks: 0..<50, now: 0) }
        #expect(directives == [.startFill(0, object: "seg", chunks: 0..<50)], "one upstream fill, nobody served yet")
        let first = coordinator.progress(0, verifiedEnd: 1, now: 1)
        #expect(first == (0..<200).map { .send($0, fill: 0, chunks: 0..<1) }, "every waiter gets chunk 0 as soon as it verifies")
        let rest = coordinator.progress(0, verifiedEnd: 50, now: 2)
        #expect(rest.filter { if case .finish = $0 { true } else { false } }.count == 200)
        #expect(rest.last == .fillCompleted(0, object: "seg", chunks: 0..<50))
        #expect(coordinator.activeFills == 0)
    }

    @Test func aLateJoinerGetsWhatIsAlreadyVerifiedAtOnce() {
        var coordinator = Coordinator()
        _ = coordinator.request(1, object: "seg", chunks: 0..<10, now: 0)
        _ = coordinator.progress(0, verifiedEnd: 6, now: 1)
        #expect(coordinator.request(2, object: "seg", chunks: 2..<10, now: 2) == [.send(2, fill: 0, chunks: 2..<6)])
    }

    @Test func aRangeNearTheEndStartsItsOwnFillAtOnce() {
        var coordinator = Coordinator()
        _ = coordinator.request(1, object: "big", chunks: 0..<3000, now: 0)
        #expect(coordinator.request(2, object: "big", chunks: 2700..<2702, now: 0) == [.startFill(1, object: "big", chunks: 2700..<2702)],
                "not behind a fill that would take 2700 chunks to get there")
    }

    @Test func aWaiterContinuesOnAFillOfTheRest() {
        var coordinator = Coordinator()
        _ = coordinator.request(1, object: "seg", chunks: 0..<50, now: 0)
        _ = coordinator.progress(0, verifiedEnd: 30, now: 1)
        // Chunk 40 is within the join window of fill 0's progress: wait for it rather than fetch it twice.
        #expect(coordinator.request(2, object: "seg", chunks: 40..<100, now: 1).isEmpty)
        let directives = coordinator.progress(0, verifiedEnd: 50, now: 1)
        #expect(directives.contains(.send(2, fill: 0, chunks: 40..<50)))
        #expect(directives.contains(.startFill(1, object: "seg", chunks: 50..<100)))
        #expect(coordinator.progress(1, verifiedEnd: 100, now: 2).prefix(2) == [.send(2, fill: 1, chunks: 50..<100), .finish(2)])
    }

    @Test func aFailedFillFailsOnlyItsUnfinishedWaiters() {
        var coordinator = Coordinator()
        _ = coordinator.request(1, object: "seg", chunks: 0..<2, now: 0)
        _ = coordinator.request(2, object: "seg", chunks: 0..<10, now: 0)
        // Waiter 2 joined fill 0 (chunks 0..<2); when it completes, waiter 2 continues on fill 1 for the rest.
        let completed = coordinator.progress(0, verifiedEnd: 2, now: 1)
        #expect(completed.contains(.finish(1)) && completed.contains(.startFill(1, object: "seg", chunks: 2..<10)))
        #expect(coordinator.fillFailed(1) == [.fail(2, .upstreamFailed)])
        #expect(coordinator.activeFills == 0)
    }

    @Test func waitsAreBoundedInTimeAndNumber() {
        var coordinator = Coordinator(settings: .init(waitTimeoutNanoseconds: 5 * Self.second, maximumWaiters: 3))
        for waiter in 0..<3 { _ = coordinator.request(waiter, object: "seg", chunks: 0..<10, now: 0) }
        #expect(coordinator.request(3, object: "seg", chunks: 0..<10, now: 0) == [.fail(3, .tooManyWaiters)])
        _ = coordinator.progress(0, verifiedEnd: 1, now: 4 * Self.second)
        #expect(coordinator.tick(now: 6 * Self.second).isEmpty, "progress at 4 s restarted the clock")
        #expect(coordinator.tick(now: 10 * Self.second) == [.fail(0, .timedOut), .fail(1, .timedOut), .fail(2, .timedOut)])
    }

    @Test func aCancelledWaiterHearsNothingMoreAndTheFillGoesOn() {
        var coordinator = Coordinator()
        _ = coordinator.request(1, object: "seg", chunks: 0..<4, now: 0)
        coordinator.cancel(1)
        #expect(coordinator.progress(0, verifiedEnd: 4, now: 1) == [.fillCompleted(0, object: "seg", chunks: 0..<4)])
    }

    /// Seeded random schedules of requests, progress, failures, timeouts and cancellations. After every step: each
    /// waiter has received a contiguous run of chunks from where it started, nothing after its end, and at most one
    /// terminal directive; a request never starts a fill when one already covers its first chunk.
    @Test(arguments: 0..<8)
    func randomSchedulesKeepEveryWaitersStreamExact(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        var coordinator = Coordinator(settings: .init(waitTimeoutNanoseconds: 3 * Self.second, maximumWaiters: 20))
        var expected: [Int: Int] = [:], ends: [Int: Int] = [:], terminal: Set<Int> = []
        var fills: [Int: (object: String, chunks: Range<Int>, verified: Int)] = [:]
        var verifiedByFill: [Int: Int] = [:]
        var now: UInt64 = 0
        var nextWaiter = 0
        func apply(_ directives: [Coordinator.Directive]) {
            for directive in directives {
                switch directive {
                case .startFill(let id, let object, let chunks):
                    #expect(fills[id] == nil)
                    fills[id] = (object, chunks, chunks.lowerBound)
                    verifiedByFill[id] = chunks.lowerBound
                case .send(let waiter, let fill, let chunks):
                    #expect(chunks.upperBound <= verifiedByFill[fill] ?? -1, "seed \(seed): unverified chunks sent")
                    #expect(!terminal.contains(waiter), "seed \(seed): data after the end")
                    #expect(chunks.lowerBound == expected[waiter], "seed \(seed): gap or repeat for waiter \(waiter)")
                    #expect(chunks.upperBound <= ends[waiter]!)
                    expected[waiter] = chunks.upperBound
                case .finish(let waiter):
                    #expect(expected[waiter] == ends[waiter], "seed \(seed): finished early")
                    #expect(terminal.insert(waiter).inserted)
                case .fail(let waiter, _):
                    #expect(terminal.insert(waiter).inserted)
                case .fillCompleted(let id, _, _):
                    fills[id] = nil
                }
            }
        }
        for _ in 0..<600 {
            now += UInt64.random(in: 0...(Self.second / 2), using: &generator)
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<4:
                let object = ["a", "b"].randomElement(using: &generator)!
                let start = Int.random(in: 0..<40, using: &generator)
                let chunks = start..<(start + Int.random(in: 1...20, using: &generator))
                let covered = fills.values.contains { $0.object == object && $0.chunks.contains(start) && start < $0.verified + 16 }
                expected[nextWaiter] = start
                ends[nextWaiter] = chunks.upperBound
                let directives = coordinator.request(nextWaiter, object: object, chunks: chunks, now: now)
                if covered { #expect(!directives.contains { if case .startFill = $0 { true } else { false } }) }
                apply(directives)
                nextWaiter += 1
            case 4..<8:
                guard let (id, fill) = fills.randomElement(using: &generator) else { continue }
                let verified = min(fill.chunks.upperBound, fill.verified + Int.random(in: 1...6, using: &generator))
                fills[id]?.verified = verified
                verifiedByFill[id] = verified
                apply(coordinator.progress(id, verifiedEnd: verified, now: now))
            case 8:
                if Bool.random(using: &generator), let id = fills.keys.randomElement(using: &generator) {
                    fills[id] = nil
                    apply(coordinator.fillFailed(id))
                } else {
                    apply(coordinator.tick(now: now))
                }
            default:
                let live = (0..<nextWaiter).filter { !terminal.contains($0) }
                if let waiter = live.randomElement(using: &generator) {
                    coordinator.cancel(waiter)
                    terminal.insert(waiter)
                }
            }
        }
        #expect(coordinator.activeFills == fills.count)
    }
}

@Suite struct BackgroundFillTests {
    typealias Coordinator = FillCoordinator<String, Int>

    @Test func aBackgroundFillStartsOnlyWhereNoFillCoversIt() {
        var coordinator = Coordinator()
        #expect(coordinator.background(object: "seg", chunks: 0..<10) == [.startFill(0, object: "seg", chunks: 0..<10)])
        #expect(coordinator.background(object: "seg", chunks: 5..<10).isEmpty, "already being filled")
        #expect(coordinator.isFilling("seg") && !coordinator.isFilling("other"))
        #expect(coordinator.progress(0, verifiedEnd: 10, now: 1) == [.fillCompleted(0, object: "seg", chunks: 0..<10)])
        #expect(!coordinator.isFilling("seg"))
    }

    @Test func aViewerJoiningABackgroundFillIsToldWhichFill() {
        var coordinator = Coordinator()
        _ = coordinator.background(object: "seg", chunks: 0..<10)
        #expect(coordinator.request(7, object: "seg", chunks: 0..<10, now: 0).isEmpty)
        #expect(coordinator.fill(of: 7) == 0, "the shell promotes a queued background fill a viewer now waits on")
        let done = coordinator.progress(0, verifiedEnd: 10, now: 1)
        #expect(done.prefix(2) == [.send(7, fill: 0, chunks: 0..<10), .finish(7)])
        #expect(coordinator.fill(of: 7) == nil)
    }
}
