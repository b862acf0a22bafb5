import Crypto
import Ledger
import Manifest

/// What one node delivered to viewers in one period (an hour), as it reports it to the origin: per content, the bytes
/// delivered, the views of sessions it could not track by key, and per viewer session (a salted key: no address) the
/// media milliseconds delivered. The origin adds a session's media across nodes and counts a view once it reaches the
/// threshold, so a viewer served by several nodes is one view.
///
/// The text form is canonical (the signature covers its SHA-256):
/// ```
/// edgenode.deliveries v1
/// node edge-paris
/// period 1796256000 3600
/// content song-1 bytes 1234567 untracked 0
/// s 00112233445566778899aabbccddeeff 30000
/// ```
public struct DeliveryReport: Sendable, Equatable {
    public struct Content: Sendable, Equatable {
        public var bytes: UInt64
        public var untrackedViews: UInt64
        /// Media milliseconds per session key.
        public var sessions: [SessionKey: UInt32]

        public init(bytes: UInt64, untrackedViews: UInt64, sessions: [SessionKey: UInt32]) {
            self.bytes = bytes
            self.untrackedViews = untrackedViews
            self.sessions = sessions
        }
    }

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Sessions in one report at most (beyond: the node reports them as untracked views).
    public static let maximumSessions = 4_000_000
    public static let maximumContents = 100_000
    /// Untracked views in one report at most, all contents together: no more than the sessions a report may name (a
    /// node counts untracked views only past its tracked sessions). With `maximumBytes`, it keeps what one node can
    /// claim in an hour — and a month's sums of every node — far inside 64 bits: one report can neither take a month's
    /// pool by a huge count nor use up the range so that other nodes' reports are refused.
    public static let maximumUntrackedViews: UInt64 = 4_000_000
    /// Bytes in one report at most, all contents together (2^50: a petabyte an hour, 2.5 Tbit/s from one node).
    public static let maximumBytes: UInt64 = 1 << 50
    /// The latest period start a report may name (9999-12-31T00:00:00Z): a node's close adds a period's length and
    /// grace to its start, which must stay far from the 64-bit bound.
    public static let latestPeriod: Int64 = 253_402_214_400
    static let header = "edgenode.deliveries v1"

    public let node: String
    /// Unix seconds of the period's start.
    public let period: Int64
    public let periodSeconds: Int64
    public let contents: [String: Content]

    public init(node: String, period: Int64, periodSeconds: Int64, contents: [String: Content]) {
        self.node = node
        self.period = period
        self.periodSeconds = periodSeconds
        self.contents = contents
    }

    /// A node's closed (or snapshot) period as a report.
    public init(node: String, periodSeconds: Int64, _ report: ViewCounter.Report) {
        // A node's own counts beyond what a report may carry are clamped (a report over the bounds would be refused whole).
        self.init(node: node, period: report.period, periodSeconds: periodSeconds, contents: report.contents.mapValues {
            Content(bytes: min($0.bytes, Self.maximumBytes), untrackedViews: min($0.untrackedViews, Self.maximumUntrackedViews), sessions: $0.sessions)
        })
    }

    /// The counter's form of the report.
    public var counterReport: ViewCounter.Report {
        ViewCounter.Report(period: period, contents: contents.mapValues {
            ViewCounter.ContentPeriod(bytes: $0.bytes, sessions: $0.sessions, untrackedViews: $0.untrackedViews)
        })
    }

    /// The period's start as `YYYY-MM-DDThh:mm:ss` (UTC): how reports are filed, so a month's reports share its prefix.
    public var periodLabel: String { CivilTime.dateTime(period) }

    /// The canonical text: contents by id, sessions by key.
    public var text: String {
        var text = "\(Self.header)\nnode \(node)\nperiod \(period) \(periodSeconds)\n"
        for id in contents.keys.sorted() {
            let content = contents[id]!
            text += "content \(id) bytes \(content.bytes) untracked \(content.untrackedViews)\n"
            for key in content.sessions.keys.sorted(by: { ($0.high, $0.low) < ($1.high, $1.low) }) {
                text += "s \(key.hex) \(content.sessions[key]!)\n"
            }
        }
        return text
    }

    /// Parses the canonical text, bounded: every line checked, numbers in range, nothing repeated.
    public init(text: String) throws(Invalid) {
        var contents: [String: Content] = [:]
        var current = ""
        let head = try Self.read(text, content: { id, bytes, untracked throws(Invalid) in
            contents[id] = Content(bytes: bytes, untrackedViews: untracked, sessions: [:])
            current = id
        }, session: { key, media in
            contents[current]!.sessions[key] = media
        })
        self.init(node: head.node, period: head.period, periodSeconds: head.periodSeconds, contents: contents)
    }

    /// What a report adds up to, without its sessions: enough to check it, file it and bound a month's sums, in
    /// memory of the order of its contents rather than its millions of sessions.
    public struct Summary: Sendable, Equatable {
        public struct Content: Sendable, Equatable {
            public var bytes: UInt64
            public var untrackedViews: UInt64
            public var sessions: Int
        }

        public let node: String
        public let period: Int64
        public let periodSeconds: Int64
        public let contents: [String: Content]

        /// Reads and checks the canonical text as `DeliveryReport(text:)` does, keeping only the sums.
        public init(text: String) throws(Invalid) {
            var contents: [String: Content] = [:]
            var current = ""
            let head = try DeliveryReport.read(text, content: { id, bytes, untracked throws(Invalid) in
                contents[id] = Content(bytes: bytes, untrackedViews: untracked, sessions: 0)
                current = id
            }, session: { _, _ in
                contents[current]!.sessions += 1
            })
            (node, period, periodSeconds, self.contents) = (head.node, head.period, head.periodSeconds, contents)
        }

        /// The sums of a report held whole.
        public init(_ report: DeliveryReport) {
            (node, period, periodSeconds) = (report.node, report.period, report.periodSeconds)
            contents = report.contents.mapValues { Content(bytes: $0.bytes, untrackedViews: $0.untrackedViews, sessions: $0.sessions.count) }
        }

        /// The period's start as `YYYY-MM-DDThh:mm:ss` (UTC).
        public var periodLabel: String { CivilTime.dateTime(period) }
        /// Sessions in all.
        public var sessions: Int { contents.values.reduce(0) { $0 + $1.sessions } }
    }

    /// Reads the canonical text line by line without splitting it whole (a report holds up to four million lines),
    /// checking every line: the header, node and period lines, then content lines (each id once) each followed by
    /// its session lines in strictly increasing key order (the canonical order: a repeated session is a key not
    /// above the previous one). Calls `content` and `session` for each; returns the node and period.
    static func read(_ text: String, content: (String, UInt64, UInt64) throws(Invalid) -> Void,
                     session: (SessionKey, UInt32) -> Void) throws(Invalid) -> (node: String, period: Int64, periodSeconds: Int64) {
        guard text.utf8.last == UInt8(ascii: "\n") else { throw Invalid(reason: "the report must end with a newline") }
        var cursor = text.startIndex
        var number = 0
        func nextLine() -> Substring? {
            guard cursor < text.endIndex, let end = text.utf8[cursor...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            defer { cursor = text.index(after: end) }
            number += 1
            return text[cursor..<end]
        }
        guard let header = nextLine(), header == Self.header[...], let second = nextLine(), let third = nextLine() else {
            throw Invalid(reason: "not an \(Self.header) report")
        }
        let nodeLine = second.split(separator: " ")
        guard nodeLine.count == 2, nodeLine[0] == "node", Account.isIdentifier(String(nodeLine[1])) else { throw Invalid(reason: "line 2: node NAME") }
        let periodLine = third.split(separator: " ")
        guard periodLine.count == 3, periodLine[0] == "period", let period = Int64(periodLine[1]), let length = Int64(periodLine[2]),
              (10...86_400).contains(length), 86_400 % length == 0, (0...Self.latestPeriod).contains(period), period % length == 0 else {
            throw Invalid(reason: "line 3: period START SECONDS (SECONDS within 10...86400 dividing a day, START a multiple of it, at most 9999-12-31)")
        }
        var seen: Set<String> = []
        var totalBytes: UInt64 = 0, totalUntracked: UInt64 = 0
        var inContent = false
        var previous: SessionKey?
        var sessions = 0
        while let line = nextLine() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            if fields.first == "content" {
                guard fields.count == 6, fields[2] == "bytes", fields[4] == "untracked", let bytes = UInt64(fields[3]),
                      let untracked = UInt64(fields[5]) else { throw Invalid(reason: "line \(number): content ID bytes N untracked N") }
                let id = String(fields[1])
                guard (try? ContentManifest.validateIdentifier(id, field: "content")) != nil else {
                    throw Invalid(reason: "line \(number): \"\(id.prefix(40))\" is not a content id")
                }
                guard seen.insert(id).inserted else { throw Invalid(reason: "line \(number): content \(id) appears twice") }
                guard seen.count <= Self.maximumContents else { throw Invalid(reason: "more than \(Self.maximumContents) contents") }
                // Both totals stay below 2^51 (each term is checked against a bound below 2^50 first): no overflow.
                guard bytes <= Self.maximumBytes, untracked <= Self.maximumUntrackedViews else {
                    throw Invalid(reason: "line \(number): bytes: at most \(Self.maximumBytes), untracked: at most \(Self.maximumUntrackedViews) in a report")
                }
                totalBytes += bytes
                totalUntracked += untracked
                guard totalBytes <= Self.maximumBytes else { throw Invalid(reason: "bytes: more than \(Self.maximumBytes) in one report") }
                guard totalUntracked <= Self.maximumUntrackedViews else {
                    throw Invalid(reason: "untracked: more than \(Self.maximumUntrackedViews) untracked views in one report")
                }
                try content(id, bytes, untracked)
                inContent = true
                previous = nil
            } else if fields.first == "s" {
                guard inContent else { throw Invalid(reason: "line \(number): a session before any content") }
                guard fields.count == 3, let key = SessionKey(hex: fields[1]), let media = UInt32(fields[2]) else {
                    throw Invalid(reason: "line \(number): s KEY(32 hex) MILLISECONDS")
                }
                if let previous, (key.high, key.low) <= (previous.high, previous.low) {
                    throw Invalid(reason: key == previous ? "line \(number): session \(fields[1]) appears twice"
                                  : "line \(number): sessions must be in increasing key order (the canonical text)")
                }
                previous = key
                sessions += 1
                guard sessions <= Self.maximumSessions else { throw Invalid(reason: "more than \(Self.maximumSessions) sessions") }
                session(key, media)
            } else {
                throw Invalid(reason: "line \(number): expected a content or s line")
            }
        }
        return (String(nodeLine[1]), period, length)
    }

    /// The text a node signs: the report's node, period and the SHA-256 of its canonical text.
    public static func signedText(node: String, period: Int64, reportText: String) -> String {
        let digest = SHA256.hash(data: Array(reportText.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        return "edgenode.deliveries/v1\n\(node)\n\(period)\nsha256 \(digest)\n"
    }

    /// Checks that `note`, signed by `verifier`, covers `text` for `node`: the signature, and the node, period and
    /// digest it names.
    public static func verify(text: String, note: String, node: String, verifier: NoteVerifier) throws(Invalid) -> DeliveryReport {
        let report = try DeliveryReport(text: text)
        try checkSignature(text: text, note: note, node: node, reportNode: report.node, period: report.period, verifier: verifier)
        return report
    }

    /// `verify`, keeping only the report's sums (`Summary`): what the origin needs to accept a report.
    public static func verifySummary(text: String, note: String, node: String, verifier: NoteVerifier) throws(Invalid) -> Summary {
        let summary = try Summary(text: text)
        try checkSignature(text: text, note: note, node: node, reportNode: summary.node, period: summary.period, verifier: verifier)
        return summary
    }

    private static func checkSignature(text: String, note: String, node: String, reportNode: String, period: Int64,
                                       verifier: NoteVerifier) throws(Invalid) {
        guard reportNode == node else { throw Invalid(reason: "the report is of node \(reportNode), not \(node)") }
        do {
            let signed = try SignedNote(parsing: note)
            try signed.verify(with: verifier)
            guard signed.text == signedText(node: node, period: period, reportText: text) else {
                throw Invalid(reason: "the signature covers another report")
            }
        } catch let error as Invalid {
            throw error
        } catch {
            throw Invalid(reason: "signature: \(error)")
        }
    }
}

extension SessionKey {
    /// 32 lower-case hex digits.
    public var hex: String {
        func digits(_ value: UInt64) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }
        return digits(high) + digits(low)
    }

    /// Parses 32 lower-case hex digits.
    public init?<Text: StringProtocol>(hex: Text) {
        guard hex.utf8.count == 32, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
              let high = UInt64(hex.prefix(16), radix: 16), let low = UInt64(hex.suffix(16), radix: 16) else { return nil }
        self.init(high: high, low: low)
    }
}
