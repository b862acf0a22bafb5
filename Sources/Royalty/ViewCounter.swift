/// A viewer session's key: a hash of (client address, User-Agent, content id) salted with the period's fleet-wide
/// salt, made by the caller. The counter never sees an address; reports carry only these keys, which the origin uses
/// to count a session served by several nodes once.
public struct SessionKey: Hashable, Sendable {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}

/// Counts what a node delivered to viewers, per content and period: delivered bytes, and per viewer session the media
/// time of the distinct segments it received — each delivery carries the media time of the bytes it delivered (a
/// one-byte range of a 2 s segment carries next to nothing), and the deliveries of one segment add up to its duration
/// at most (a range request or a retry of a segment adds bytes, never media time twice). A session ends after `idleTimeoutSeconds` without a request; the same viewer afterwards is a new session.
/// Keys are salted per period (an hour), so a session belongs to one period: a viewer watching across the hour is a
/// session in each (a view in each hour with 30 s of media). A period is reported once, shortly after it ends.
/// The origin adds the media time of a session key across nodes and counts a view when it reaches the threshold (the
/// industry's 30 s stream rule); `views(threshold:)` is this node's own count.
///
/// Memory is bounded whatever the number of viewers: live sessions live in a fixed table (open addressing, a probe
/// window of 8: a new session takes a free or expired slot, else the least recently seen one of its window, which is
/// then finished early and counted in `evictedSessions`), and each period keeps at most `maximumKeysPerPeriod` session
/// keys (sessions beyond it are only counted, as `untrackedViews`).
public struct ViewCounter: Sendable {
    public struct Settings: Sendable {
        /// Media time that makes a session a view.
        public var thresholdMilliseconds: UInt32 = 30_000
        public var idleTimeoutSeconds: Int64 = 1_800
        public var periodSeconds: Int64 = 3_600
        /// A period is closed this long after it ended.
        public var closeGraceSeconds: Int64 = 60
        /// Live sessions held at most.
        public var capacity = 1 << 20
        /// Session keys reported per period at most.
        public var maximumKeysPerPeriod = 4_000_000
        /// Distinct sessions one client address may have credited with media per content and period: a client that
        /// changes its User-Agent is not many viewers. Later sessions from that address get bytes counted, no media
        /// time, and are counted in `refusedSessions`.
        public var sessionsPerAddress = 16

        public init() {}
    }

    /// One content's deliveries in one period at this node.
    public struct ContentPeriod: Sendable, Equatable {
        public init(bytes: UInt64 = 0, sessions: [SessionKey: UInt32] = [:], untrackedViews: UInt64 = 0) {
            self.bytes = bytes
            self.sessions = sessions
            self.untrackedViews = untrackedViews
        }

        /// Bytes delivered to viewers in the period (whatever period their session started in).
        public var bytes: UInt64 = 0
        /// Media milliseconds per session that started in the period (capped at the threshold: more changes nothing).
        public var sessions: [SessionKey: UInt32] = [:]
        /// Views of sessions beyond `maximumKeysPerPeriod`: counted, not reported by key.
        public var untrackedViews: UInt64 = 0

        /// Views at this node alone: sessions that reached `threshold`, plus the untracked ones.
        public func views(threshold: UInt32) -> UInt64 {
            UInt64(sessions.values.count { $0 >= threshold }).saturatingAdding(untrackedViews)
        }
    }

    /// A closed period: its start (Unix seconds) and what each content came to.
    public struct Report: Sendable, Equatable {
        public let period: Int64
        public let contents: [String: ContentPeriod]

        public init(period: Int64, contents: [String: ContentPeriod]) {
            self.period = period
            self.contents = contents
        }
    }

    private struct Session {
        let key: SessionKey
        let content: String
        let period: Int64
        var lastSeen: Int64
        var media: UInt32
        /// Distinct segments received and the media time credited for each, until the threshold is reached (then
        /// forgotten).
        var segments: [(segment: UInt64, credited: UInt32)]
        /// Refused media time: its address had its share of sessions (counted once).
        var refused = false
    }

    public let settings: Settings
    private var table: [Session?]
    private var periods: [Int64: [String: ContentPeriod]] = [:]
    /// Sessions finished early because their window of the table was full of active sessions.
    public private(set) var evictedSessions: UInt64 = 0
    /// Live sessions now.
    public private(set) var liveSessions = 0
    /// Sessions refused media time because their address already had `sessionsPerAddress` for the content and period.
    public private(set) var refusedSessions: UInt64 = 0
    /// Per period, per address and content: the sessions credited with media time (bounded by the period's keys).
    private var addressSessions: [Int64: [AddressOfContent: Set<SessionKey>]] = [:]

    private struct AddressOfContent: Hashable {
        let address: SessionKey
        let content: String
    }

    static let window = 8
    /// Distinct segments remembered per session before the threshold; beyond it every segment adds its time.
    static let segmentMemory = 64

    public init(settings: Settings = Settings()) {
        self.settings = settings
        table = Array(repeating: nil, count: max(Self.window, settings.capacity))
    }

    /// The start of the period `time` (Unix seconds) falls in.
    public func period(of time: Int64) -> Int64 {
        let length = max(1, settings.periodSeconds)
        return time - ((time % length) + length) % length
    }

    /// A viewer of `session` received `bytes` of `content`'s `segment` (an id of the segment's path) carrying
    /// `mediaMilliseconds` of media, out of the segment's `segmentMilliseconds` (its whole duration; the delivery's
    /// own media time when nil), at `now` (Unix seconds). `address` identifies the client's address for this content
    /// (salted like the session): at most `sessionsPerAddress` of its sessions earn media time per period. True when
    /// this delivery made the session a view here.
    @discardableResult
    public mutating func delivered(session key: SessionKey, address: SessionKey? = nil, content: String, segment: UInt64, mediaMilliseconds: UInt32,
                                   ofSegment segmentMilliseconds: UInt32? = nil, bytes: UInt64, now: Int64) -> Bool {
        let counted = periods[period(of: now)]?[content]?.bytes ?? 0
        periods[period(of: now), default: [:]][content, default: ContentPeriod()].bytes = counted.saturatingAdding(bytes)
        let slot = self.slot(for: key, content: content, now: now)
        guard var session = table[slot] else { return false }
        session.lastSeen = now
        var becameView = false
        if let address, !admits(key, address: AddressOfContent(address: address, content: content), period: session.period) {
            if !session.refused {
                session.refused = true
                refusedSessions = refusedSessions.saturatingAdding(1)
            }
            table[slot] = session
            return false
        }
        let whole = max(segmentMilliseconds ?? mediaMilliseconds, mediaMilliseconds)
        let index = session.segments.firstIndex { $0.segment == segment }
        let already = index.map { session.segments[$0].credited } ?? 0
        let credit = min(mediaMilliseconds, whole - min(whole, already))
        if session.media < settings.thresholdMilliseconds && credit > 0 {
            session.media = min(settings.thresholdMilliseconds, session.media.saturatingAdding(credit))
            if session.media >= settings.thresholdMilliseconds {
                session.segments = []
                becameView = true
            } else if let index {
                session.segments[index].credited = already + credit
            } else if session.segments.count < Self.segmentMemory {
                session.segments.append((segment, credit))
            }
            assert(becameView || index.map { session.segments[$0].credited <= whole } ?? true)
        }
        table[slot] = session
        return becameView
    }

    /// Whether `key` may earn media time as one of its address's sessions in `period` (and admits it if there is room).
    /// Memory stays bounded under a flood of addresses: past `maximumKeysPerPeriod` addresses of a content in a period,
    /// a new address earns no media time (admitting it untracked would let it rotate User-Agents without limit).
    private mutating func admits(_ key: SessionKey, address: AddressOfContent, period: Int64) -> Bool {
        if addressSessions[period]?[address]?.contains(key) == true { return true }
        let held = addressSessions[period]?[address]?.count ?? 0
        guard held < settings.sessionsPerAddress else { return false }
        if held == 0 && (addressSessions[period]?.count ?? 0) >= settings.maximumKeysPerPeriod { return false }
        addressSessions[period, default: [:]][address, default: []].insert(key)
        return true
    }

    /// The slot holding `key`'s live session, made if there is none (a session idle past the timeout ends first).
    private mutating func slot(for key: SessionKey, content: String, now: Int64) -> Int {
        let start = Int(truncatingIfNeeded: key.low % UInt64(table.count))
        var free: Int?
        var oldest: Int?
        for step in 0..<Self.window {
            let index = (start + step) % table.count
            guard let session = table[index] else {
                if free == nil { free = index }
                continue
            }
            let idle = now - session.lastSeen > settings.idleTimeoutSeconds
            if session.key == key && session.content == content && !idle { return index }
            if session.key == key || idle {
                finish(index)
                if free == nil { free = index }
                continue
            }
            if oldest.map({ session.lastSeen < table[$0]!.lastSeen }) ?? true { oldest = index }
        }
        let chosen: Int
        if let free {
            chosen = free
        } else {
            chosen = oldest!
            finish(chosen)
            evictedSessions += 1
        }
        table[chosen] = Session(key: key, content: content, period: period(of: now), lastSeen: now, media: 0, segments: [])
        liveSessions += 1
        return chosen
    }

    /// Moves a live session's media time into its period and frees its slot.
    private mutating func finish(_ index: Int) {
        guard let session = table[index] else { return }
        table[index] = nil
        liveSessions -= 1
        record(session)
    }

    private mutating func record(_ session: Session) {
        guard session.media > 0 else { return }
        var entry = periods[session.period, default: [:]][session.content, default: ContentPeriod()]
        if let known = entry.sessions[session.key] {
            entry.sessions[session.key] = min(settings.thresholdMilliseconds, known.saturatingAdding(session.media))
        } else if entry.sessions.count < settings.maximumKeysPerPeriod {
            entry.sessions[session.key] = session.media
        } else if session.media >= settings.thresholdMilliseconds {
            entry.untrackedViews = entry.untrackedViews.saturatingAdding(1)
        }
        periods[session.period, default: [:]][session.content] = entry
    }

    /// What every open period holds so far, live sessions included (nothing is finished or removed): saved by a node
    /// so that a restart loses nothing counted before the save.
    public func snapshot() -> [Report] {
        var copy = periods
        for session in table.compactMap({ $0 }) where session.media > 0 {
            var entry = copy[session.period, default: [:]][session.content, default: ContentPeriod()]
            let known = entry.sessions[session.key] ?? 0
            entry.sessions[session.key] = min(settings.thresholdMilliseconds, known.saturatingAdding(session.media))
            copy[session.period, default: [:]][session.content] = entry
        }
        return copy.keys.sorted().map { Report(period: $0, contents: copy[$0]!) }
    }

    /// Takes back what a snapshot held (after a restart): its sessions' media and bytes join their periods, and a
    /// session seen again adds to what it had.
    public mutating func restore(_ report: Report) {
        for (content, saved) in report.contents {
            var entry = periods[report.period, default: [:]][content, default: ContentPeriod()]
            entry.bytes = entry.bytes.saturatingAdding(saved.bytes)
            entry.untrackedViews = entry.untrackedViews.saturatingAdding(saved.untrackedViews)
            for (key, media) in saved.sessions {
                let known = entry.sessions[key] ?? 0
                entry.sessions[key] = min(settings.thresholdMilliseconds, known.saturatingAdding(media))
            }
            periods[report.period, default: [:]][content] = entry
        }
    }

    /// The periods closed at `now`: ended at least `closeGraceSeconds` ago (requests under way at the end have been
    /// counted). Their live sessions are finished as they stand: keys are salted per period, so no session spans two.
    /// Oldest first; each period is reported once.
    public mutating func closePeriods(now: Int64) -> [Report] {
        let closed = periods.keys.filter { $0 + settings.periodSeconds + settings.closeGraceSeconds <= now }.sorted()
        guard !closed.isEmpty else { return [] }
        let closing = Set(closed)
        for index in table.indices where table[index].map({ closing.contains($0.period) }) == true {
            finish(index)
        }
        for period in closed { addressSessions[period] = nil }
        return closed.map { Report(period: $0, contents: periods.removeValue(forKey: $0) ?? [:]) }
    }
}
