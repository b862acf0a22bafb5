/// The network's views of a month, from every node's delivery reports: per period (hour), content and session key,
/// the media milliseconds all nodes delivered are added, and a session that reaches the threshold is one view however
/// many nodes served it; views nodes could not track by key are added as reported. Sums that would leave the 64-bit
/// range are refused (`Overflow`), never wrapped: `Bounds` refuses the report that would take a month there.
public struct ViewTally: Sendable, Equatable {
    /// A month's sum of a content's report field left the 64-bit range.
    public struct Overflow: Error, Sendable, Equatable, CustomStringConvertible {
        public let content: String
        /// The report's field: `bytes` or `untracked` (views nodes could not track, added as reported).
        public let field: String

        public var description: String {
            "content \(content): the month's \(field) (with its sessions' views) summed over the reports would pass \(UInt64.max)"
        }
    }

    /// What a month's reports can add up to, per content: bytes, and untracked views plus sessions (a bound on the
    /// views). A report is accepted only if `add` takes it, so the tally of accepted reports never overflows.
    public struct Bounds: Sendable, Equatable {
        public private(set) var bytes: [String: UInt64] = [:]
        public private(set) var views: [String: UInt64] = [:]

        public init(reports: [DeliveryReport.Summary]) throws(Overflow) {
            for report in reports { try add(report) }
        }

        /// Adds `report`, or throws naming the first field that would pass the range (and adds nothing).
        public mutating func add(_ report: DeliveryReport.Summary) throws(Overflow) {
            var bytes = self.bytes, views = self.views
            for content in report.contents.keys.sorted() {
                let delivered = report.contents[content]!
                bytes[content] = try Self.sum(bytes[content, default: 0], delivered.bytes, content, "bytes")
                let reported = try Self.sum(delivered.untrackedViews, UInt64(delivered.sessions), content, "untracked")
                views[content] = try Self.sum(views[content, default: 0], reported, content, "untracked")
            }
            self.bytes = bytes
            self.views = views
        }

        static func sum(_ a: UInt64, _ b: UInt64, _ content: String, _ field: String) throws(Overflow) -> UInt64 {
            let (sum, overflow) = a.addingReportingOverflow(b)
            guard !overflow else { throw Overflow(content: content, field: field) }
            return sum
        }
    }

    /// Views per content.
    public private(set) var views: [String: UInt64] = [:]
    /// Bytes delivered per content, all nodes.
    public private(set) var bytes: [String: UInt64] = [:]
    /// Reports added, and sessions seen at more than one node.
    public private(set) var reports = 0
    public private(set) var sharedSessions: UInt64 = 0

    public init(reports: [DeliveryReport], thresholdMilliseconds: UInt32) throws(Overflow) {
        var media: [Int64: [String: [SessionKey: (milliseconds: UInt32, shared: Bool)]]] = [:]
        for report in reports {
            self.reports += 1
            for (content, delivered) in report.contents {
                bytes[content] = try Bounds.sum(bytes[content, default: 0], delivered.bytes, content, "bytes")
                views[content] = try Bounds.sum(views[content, default: 0], delivered.untrackedViews, content, "untracked")
                for (key, milliseconds) in delivered.sessions {
                    let known = media[report.period, default: [:]][content, default: [:]][key]
                    media[report.period, default: [:]][content, default: [:]][key] =
                        ((known?.milliseconds ?? 0).saturatingAdding(milliseconds), known != nil)
                }
            }
        }
        for (_, contents) in media {
            for (content, sessions) in contents {
                for (_, session) in sessions {
                    if session.shared { sharedSessions += 1 }
                    if session.milliseconds >= thresholdMilliseconds {
                        views[content] = try Bounds.sum(views[content, default: 0], 1, content, "untracked")
                    }
                }
            }
        }
    }
}
