import Gossip
import Metrics

/// Gossip counters for `/metrics`.
struct GossipMetrics {
    private let packetsSent = Counter(label: "edgenode_gossip_packets_sent_total")
    private let bytesSent = Counter(label: "edgenode_gossip_bytes_sent_total")
    private let packetsReceived = Counter(label: "edgenode_gossip_packets_received_total")
    private let bytesReceived = Counter(label: "edgenode_gossip_bytes_received_total")
    private let drops: [DropReason: Counter]
    private let probesSent = Counter(label: "edgenode_gossip_probes_sent_total")
    private let probesFailed = Counter(label: "edgenode_gossip_probes_failed_total")
    private let suspicionsRaised = Counter(label: "edgenode_gossip_suspicions_raised_total")
    private let refutations = Counter(label: "edgenode_gossip_refutations_total")
    private let suspicionsCleared = Counter(label: "edgenode_gossip_suspicions_refuted_total")
    private let deaths = Counter(label: "edgenode_gossip_deaths_declared_total")
    private let recordsRejected = Counter(label: "edgenode_gossip_records_rejected_total")
    private let updatesRefused = Counter(label: "edgenode_gossip_updates_refused_total")
    private let byStatus: [MemberStatus: Gauge]

    init() {
        var drops: [DropReason: Counter] = [:]
        for reason in DropReason.allCases {
            drops[reason] = Counter(label: "edgenode_gossip_packets_dropped_total", dimensions: [("reason", reason.rawValue)])
        }
        self.drops = drops
        byStatus = Dictionary(uniqueKeysWithValues: MemberStatus.allCases.map {
            ($0, Gauge(label: "edgenode_gossip_members", dimensions: [("status", $0.description)]))
        })
    }

    /// The members this node knows now (itself included), counted by status.
    func members(_ statuses: [MemberStatus]) {
        for status in MemberStatus.allCases { byStatus[status]!.record(statuses.count { $0 == status }) }
    }

    func sent(bytes: Int) {
        packetsSent.increment()
        bytesSent.increment(by: bytes)
    }

    func received(bytes: Int) {
        packetsReceived.increment()
        bytesReceived.increment(by: bytes)
    }

    func dropped(_ reason: DropReason) { drops[reason]!.increment() }

    func memberChanged(to status: MemberStatus) {
        Counter(label: "edgenode_gossip_member_changes_total", dimensions: [("to", status.description)]).increment()
    }

    /// Adds what the core counted since the last export.
    func add(_ counters: GossipCounters, since last: GossipCounters) {
        probesSent.increment(by: counters.probesSent - last.probesSent)
        probesFailed.increment(by: counters.probesFailed - last.probesFailed)
        suspicionsRaised.increment(by: counters.suspicionsRaised - last.suspicionsRaised)
        refutations.increment(by: counters.refutations - last.refutations)
        suspicionsCleared.increment(by: counters.suspicionsCleared - last.suspicionsCleared)
        deaths.increment(by: counters.deathsDeclared - last.deathsDeclared)
        recordsRejected.increment(by: counters.recordsRejected - last.recordsRejected)
        updatesRefused.increment(by: counters.updatesRefused - last.updatesRefused)
    }
}
