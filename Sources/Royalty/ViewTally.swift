/// The network's views of a month, from every node's delivery reports: per period (hour), content and session key,
/// the media milliseconds all nodes delivered are added, and a session that reaches the threshold is one view however
/// many nodes served it; views nodes could not track by key are added as reported.
public struct ViewTally: Sendable, Equatable {
    /// Views per content.
    public private(set) var views: [String: UInt64] = [:]
    /// Bytes delivered per content, all nodes.
    public private(set) var bytes: [String: UInt64] = [:]
    /// Reports added, and sessions seen at more than one node.
    public private(set) var reports = 0
    public private(set) var sharedSessions: UInt64 = 0

    public init(reports: [DeliveryReport], thresholdMilliseconds: UInt32) {
        var media: [Int64: [String: [SessionKey: (milliseconds: UInt32, nodes: UInt8)]]] = [:]
        for report in reports {
            self.reports += 1
            for (content, delivered) in report.contents {
                bytes[content, default: 0] &+= delivered.bytes
                views[content, default: 0] &+= delivered.untrackedViews
                for (key, milliseconds) in delivered.sessions {
                    let known = media[report.period, default: [:]][content, default: [:]][key]
                    let sum = (known?.milliseconds ?? 0).addingReportingOverflow(milliseconds)
                    media[report.period, default: [:]][content, default: [:]][key] = (sum.overflow ? .max : sum.partialValue, (known?.nodes ?? 0) &+ 1)
                }
            }
        }
        for (_, contents) in media {
            for (content, sessions) in contents {
                for (_, session) in sessions {
                    if session.nodes > 1 { sharedSessions += 1 }
                    if session.milliseconds >= thresholdMilliseconds { views[content, default: 0] &+= 1 }
                }
            }
        }
    }
}
