import Metrics
import Routing

/// `edgenode_routing_decisions_total{result, reason}`: what viewer routing did with a playlist (or, in emergency
/// mode, any file) request and why its first candidate came first.
struct RoutingMetrics: Sendable {
    static let shared = RoutingMetrics()

    enum Result: String, CaseIterable, Sendable {
        /// Sent to another node.
        case redirect
        /// Served here (this node ranked first).
        case serve
        /// Served here in emergency mode because no mesh or satellite node is healthy.
        case degraded
    }

    /// `RoutingPolicy.Reason` as a label value, and the cases where no policy ran.
    enum Reason: String, CaseIterable, Sendable {
        case hysteresis, contentHash = "content_hash", distance, recovering
        /// No healthy candidate at all.
        case noCandidate = "no_candidate"
        /// No cluster view yet.
        case noView = "no_view"

        init(_ reason: RoutingPolicy.Reason) {
            switch reason {
            case .previous: self = .hysteresis
            case .nearestGroup: self = .contentHash
            case .distance: self = .distance
            case .recovering: self = .recovering
            }
        }
    }

    private let counters: [Result: [Reason: Counter]]

    private init() {
        var counters: [Result: [Reason: Counter]] = [:]
        for result in Result.allCases {
            var byReason: [Reason: Counter] = [:]
            for reason in Reason.allCases {
                byReason[reason] = Counter(label: "edgenode_routing_decisions_total", dimensions: [("result", result.rawValue), ("reason", reason.rawValue)])
            }
            counters[result] = byReason
        }
        self.counters = counters
    }

    func decided(_ result: Result, reason: Reason) { counters[result]?[reason]?.increment() }
}
