import Testing
@testable import Royalty

/// Views counted by a node: 30 s of distinct media per session, retries and ranges never twice, sessions ending after
/// the idle timeout, periods reported once, memory bounded.
@Suite struct ViewCounterTests {
    static let hour: Int64 = 3_600
    static let start: Int64 = 1_796_000_400 - 1_796_000_400 % 3_600

    static func key(_ n: UInt64) -> SessionKey { SessionKey(high: n &* 0x9E37_79B9_7F4A_7C15, low: n) }

    /// Issue 24 (the class of the wrapping tally): a segment claiming 2^32 − 1 ms on top of a session's media wrapped
    /// it back below the threshold; counters saturate instead.
    @Test func countersSaturateInsteadOfWrapping() {
        var counter = ViewCounter()
        let viewer = Self.key(1)
        counter.delivered(session: viewer, content: "clip", segment: 0, mediaMilliseconds: 4_000, bytes: .max, now: Self.start)
        let becameView = counter.delivered(session: viewer, content: "clip", segment: 1, mediaMilliseconds: .max, bytes: 2, now: Self.start + 1)
        #expect(becameView, "the session passed the threshold")
        let report = counter.closePeriods(now: Self.start + Self.hour + 60)
        #expect(report.first?.contents["clip"]?.bytes == .max, "bytes stop at the bound")
        var restored = ViewCounter()
        let saved = ViewCounter.Report(period: Self.start, contents: ["clip": .init(bytes: .max, sessions: [:], untrackedViews: .max)])
        restored.restore(saved)
        restored.restore(saved)
        #expect(restored.snapshot().first?.contents["clip"]?.untrackedViews == .max)
        #expect(restored.snapshot().first?.contents["clip"]?.views(threshold: 30_000) == .max)
    }

    @Test func aSessionIsAViewOnceItHasThirtySecondsOfDistinctMedia() {
        var counter = ViewCounter()
        let viewer = Self.key(1)
        var now = Self.start + 10
        for segment in 0..<7 {
            let becameView = counter.delivered(session: viewer, content: "clip", segment: UInt64(segment), mediaMilliseconds: 4_000, bytes: 100_000, now: now)
            #expect(!becameView)
            // A retry and a range request of the same segment: bytes, no media time.
            counter.delivered(session: viewer, content: "clip", segment: UInt64(segment), mediaMilliseconds: 4_000, bytes: 1_000, now: now)
            now += 4
        }
        // 28 s so far: not a view.
        counter.delivered(session: Self.key(2), content: "clip", segment: 0, mediaMilliseconds: 4_000, bytes: 10, now: now)
        var reports = counter.closePeriods(now: Self.start + Self.hour + 59)
        #expect(reports.isEmpty, "within the grace after the period")
        let reached = counter.delivered(session: viewer, content: "clip", segment: 7, mediaMilliseconds: 4_000, bytes: 100_000, now: now)
        #expect(reached, "the delivery that reaches 30 s makes the view (the node saves at once)")
        let again = counter.delivered(session: viewer, content: "clip", segment: 8, mediaMilliseconds: 4_000, bytes: 100_000, now: now)
        #expect(!again, "once")
        reports = counter.closePeriods(now: Self.start + Self.hour + 60)
        #expect(reports.count == 1 && reports[0].period == Self.start)
        let clip = reports[0].contents["clip"]
        #expect(clip?.views(threshold: 30_000) == 1, "the second viewer had 4 s")
        #expect(clip?.sessions[viewer] == 30_000 && clip?.sessions[Self.key(2)] == 4_000, "media time capped at the threshold")
        #expect(clip?.bytes == 9 * 100_000 + 7 * 1_000 + 10)
        #expect(counter.closePeriods(now: Self.start + 10 * Self.hour).isEmpty, "each period is reported once")
        #expect(counter.liveSessions == 0)
    }

    /// Issue 24 (14): media time follows the bytes. Parts of one segment add up to its duration and no more, and
    /// touching segments with tiny ranges earns (next to) nothing.
    @Test func rangesOfASegmentAddUpToItsDurationAtMost() {
        var counter = ViewCounter()
        let viewer = Self.key(9)
        for _ in 0..<3 {
            counter.delivered(session: viewer, content: "clip", segment: 0, mediaMilliseconds: 1_000, ofSegment: 4_000, bytes: 250, now: Self.start)
        }
        counter.delivered(session: viewer, content: "clip", segment: 0, mediaMilliseconds: 4_000, ofSegment: 4_000, bytes: 1_000, now: Self.start)
        counter.delivered(session: viewer, content: "clip", segment: 0, mediaMilliseconds: 4_000, ofSegment: 4_000, bytes: 1_000, now: Self.start)
        for segment in 1...50 {
            counter.delivered(session: viewer, content: "clip", segment: UInt64(segment), mediaMilliseconds: 0, ofSegment: 4_000, bytes: 1, now: Self.start)
        }
        let clip = counter.closePeriods(now: Self.start + Self.hour + 60).first?.contents["clip"]
        #expect(clip?.sessions[viewer] == 4_000, "one segment's worth, whatever the pattern")
        #expect(clip?.views(threshold: 30_000) == 0)
    }

    /// Issue 24 (view fraud): one address that invents viewers (a new User-Agent per session) earns media time for
    /// `sessionsPerAddress` sessions per content and period, no more; the others are counted as refused. Another
    /// address, another content and the next period are apart.
    @Test func oneAddressCannotMintViewers() {
        var settings = ViewCounter.Settings()
        settings.sessionsPerAddress = 3
        var counter = ViewCounter(settings: settings)
        let address = Self.key(1_000), other = Self.key(2_000)
        for viewer in 0..<10 {
            for segment in 0..<8 {
                counter.delivered(session: Self.key(UInt64(viewer)), address: address, content: "clip", segment: UInt64(segment),
                                  mediaMilliseconds: 4_000, bytes: 1, now: Self.start + Int64(segment))
            }
        }
        counter.delivered(session: Self.key(50), address: other, content: "clip", segment: 0, mediaMilliseconds: 4_000, bytes: 1, now: Self.start)
        counter.delivered(session: Self.key(51), address: address, content: "song", segment: 0, mediaMilliseconds: 4_000, bytes: 1, now: Self.start)
        #expect(counter.refusedSessions == 7, "each refused session counted once")
        counter.delivered(session: Self.key(9), address: address, content: "clip", segment: 0, mediaMilliseconds: 4_000, bytes: 1,
                          now: Self.start + Self.hour)
        let reports = counter.closePeriods(now: Self.start + 3 * Self.hour)
        let clip = reports.first?.contents["clip"]
        #expect(clip?.views(threshold: 30_000) == 3, "three sessions of the address made views, seven did not")
        #expect(clip?.sessions[Self.key(50)] == 4_000, "another address is apart")
        #expect(reports.first?.contents["song"]?.sessions[Self.key(51)] == 4_000, "another content is apart")
        #expect(reports.last?.contents["clip"]?.sessions[Self.key(9)] == 4_000, "the next period starts afresh")
        #expect(clip?.bytes == 80 + 1, "refused sessions' bytes still count")
    }

    /// Past `maximumKeysPerPeriod` tracked addresses in a period, a new address earns nothing (the hostile run after
    /// issue 24: it was admitted untracked, and could then rotate User-Agents without limit).
    @Test func aFloodOfAddressesCannotEscapeTheBound() {
        var settings = ViewCounter.Settings()
        settings.sessionsPerAddress = 1
        settings.maximumKeysPerPeriod = 2
        var counter = ViewCounter(settings: settings)
        for address in 0..<3 {
            for agent in 0..<4 {
                counter.delivered(session: Self.key(UInt64(address * 10 + agent)), address: Self.key(UInt64(1_000 + address)), content: "clip",
                                  segment: 0, mediaMilliseconds: 30_000, bytes: 1, now: Self.start)
            }
        }
        let clip = counter.closePeriods(now: Self.start + Self.hour + 60).first?.contents["clip"]
        #expect(clip?.views(threshold: 30_000) == 2, "one session for each of the two tracked addresses, none for the third")
        #expect(counter.refusedSessions == 3 + 3 + 4)
    }

    @Test func anIdleSessionEndsAndTheViewerComesBackAsANewOne() {
        var settings = ViewCounter.Settings()
        settings.idleTimeoutSeconds = 1_800
        var counter = ViewCounter(settings: settings)
        let viewer = Self.key(3)
        for segment in 0..<8 {
            counter.delivered(session: viewer, content: "clip", segment: UInt64(segment), mediaMilliseconds: 4_000, bytes: 1, now: Self.start + Int64(segment))
        }
        // 31 minutes later, the same key (same period): a new session, which must earn its own 30 s.
        let back = Self.start + 8 + 1_860
        counter.delivered(session: viewer, content: "clip", segment: 0, mediaMilliseconds: 4_000, bytes: 1, now: back)
        let clip = counter.closePeriods(now: Self.start + Self.hour + 60).first?.contents["clip"]
        #expect(clip?.sessions[viewer] == 30_000, "the key's media time adds up within a period, capped")
        #expect(clip?.views(threshold: 30_000) == 1, "one key, one view in the period")
        // Within the timeout the session goes on: a segment seen before adds nothing.
        var steady = ViewCounter(settings: settings)
        steady.delivered(session: viewer, content: "clip", segment: 0, mediaMilliseconds: 20_000, bytes: 1, now: Self.start)
        steady.delivered(session: viewer, content: "clip", segment: 0, mediaMilliseconds: 20_000, bytes: 1, now: Self.start + 1_799)
        #expect(steady.closePeriods(now: Self.start + Self.hour + 60).first?.contents["clip"]?.sessions[viewer] == 20_000)
    }

    @Test func bytesGoToTheHourTheyWereDeliveredAndContentsAreApart() {
        var counter = ViewCounter()
        counter.delivered(session: Self.key(4), content: "a", segment: 1, mediaMilliseconds: 30_000, bytes: 5, now: Self.start + Self.hour - 1)
        counter.delivered(session: Self.key(5), content: "a", segment: 1, mediaMilliseconds: 30_000, bytes: 7, now: Self.start + Self.hour)
        counter.delivered(session: Self.key(4), content: "b", segment: 1, mediaMilliseconds: 1_000, bytes: 9, now: Self.start + Self.hour)
        let reports = counter.closePeriods(now: Self.start + 3 * Self.hour)
        #expect(reports.map(\.period) == [Self.start, Self.start + Self.hour])
        #expect(reports[0].contents["a"]?.bytes == 5 && reports[1].contents["a"]?.bytes == 7 && reports[1].contents["b"]?.bytes == 9)
        #expect(reports[0].contents["a"]?.views(threshold: 30_000) == 1 && reports[1].contents["b"]?.views(threshold: 30_000) == 0)
    }

    /// A million viewers through a table of 1,024 sessions and 1,000 keys per period: memory stays bounded, every
    /// session that reached 30 s before it was pushed out still counts, and nothing traps.
    @Test func memoryIsBoundedWhateverTheNumberOfViewers() {
        var settings = ViewCounter.Settings()
        settings.capacity = 1_024
        settings.maximumKeysPerPeriod = 1_000
        var counter = ViewCounter(settings: settings)
        var generator = SplitMix(seed: 7)
        for viewer in 0..<100_000 {
            let key = SessionKey(high: generator.next(), low: generator.next())
            // Each viewer gets one 30 s segment at once: a view, whatever happens to its slot afterwards.
            counter.delivered(session: key, content: "clip", segment: 0, mediaMilliseconds: 30_000, bytes: 1, now: Self.start + Int64(viewer / 100))
            #expect(counter.liveSessions <= 1_024)
        }
        #expect(counter.evictedSessions > 90_000, "the table was full most of the time: \(counter.evictedSessions)")
        let clip = counter.closePeriods(now: Self.start + Self.hour + 60).first?.contents["clip"]
        #expect(clip?.sessions.count == 1_000 && clip?.untrackedViews == 99_000)
        #expect(clip?.views(threshold: 30_000) == 100_000, "every view counted once")
    }
}
