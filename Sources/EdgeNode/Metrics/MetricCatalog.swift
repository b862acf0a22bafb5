/// Every metric a node exports, with its `# HELP` text and, for histograms, its buckets: the one place the
/// exposition's documentation lives (swift-metrics has no help text; `DocumentedMetricsFactory` adds it from here).
/// `MetricsExpositionTests` fails on a name missing from it, and `promtool check metrics` on a missing help.
public enum MetricCatalog {
    /// Response-time buckets, seconds: from a cache hit in memory to a slow client's whole segment.
    static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
    /// Group-commit batch sizes, transfers.
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]

    /// The help text of `name`, nil for a name the catalog does not know.
    public static func help(_ name: String) -> String? { entries[name] }

    /// The buckets of a histogram (nil: not a histogram).
    static func buckets(_ name: String) -> [Double]? {
        switch name {
        case "edgenode_http_first_byte_seconds", "edgenode_http_response_seconds", "edgenode_control_request_seconds": latencyBuckets
        case "edgenode_ledger_commit_batch_size": batchBuckets
        default: nil
        }
    }

    static let entries: [String: String] = [
        // Build, process, configuration.
        "edgenode_build_info": "The running build: version and Swift compiler, as labels (always 1).",
        "process_cpu_seconds_total": "User and system CPU time the process has used, in seconds.",
        "process_resident_memory_bytes": "Resident memory of the process, in bytes.",
        "process_virtual_memory_bytes": "Virtual memory size of the process, in bytes.",
        "process_open_fds": "File descriptors the process has open.",
        "process_max_fds": "The process's limit of open file descriptors.",
        "process_start_time_seconds": "When the process started, in seconds since the Unix epoch.",
        "edgenode_config_reloads_total": "Reloads of nodes.conf by outcome (success: in force; failure: refused, the previous kept).",
        "edgenode_config_last_reload_successful": "1 when the last reload of nodes.conf (or the start) succeeded, 0 when it was refused.",
        "edgenode_config_last_reload_success_timestamp_seconds": "When nodes.conf was last put in force, in seconds since the Unix epoch.",
        // The data plane.
        "edgenode_http_requests_total": "Requests the data plane answered, by route kind and status class.",
        "edgenode_http_response_bytes_total": "Response body bytes the data plane sent.",
        "edgenode_http_first_byte_seconds": "Time from a request's arrival to its response head being written, by how it was answered.",
        "edgenode_http_response_seconds": "Time from a request's arrival to its response's last byte being written, by how it was answered.",
        "edgenode_view_sessions_refused_total": "Viewer sessions refused media time because their address already had view_sessions_per_address for the content and period.",
        "edgenode_data_plane_stalled": "1 while the data plane's event loops do not answer a probe (the node is announced as not serving), else 0.",
        "edgenode_data_plane_stalls_total": "Times the data plane's event loops stopped answering probes and the node stopped being routed to.",
        "edgenode_http_open_connections": "Client connections open on the data plane.",
        "edgenode_http_max_connections": "The most client connections the data plane accepts (max_connections).",
        "edgenode_content_verification_failures_total": "Stored files whose bytes no longer matched the signed manifest when read.",
        // The cache.
        "edgenode_cache_responses_total": "Responses of a caching node by X-Cache (HIT, MISS, COALESCED, STALE).",
        "edgenode_cache_fills_total": "Objects filled from a parent, by priority (viewer or background prefetch).",
        "edgenode_cache_fill_failures_total": "Fills that no parent could complete.",
        "edgenode_cache_fill_bytes_total": "Verified bytes filled from each parent.",
        "edgenode_cache_write_failures_total": "Writes into the cache that failed on the node's own disk.",
        "edgenode_cache_disk_full_evictions_total": "Times the file system filled before the cache budget and objects were evicted to make room.",
        "edgenode_cache_uncached_responses_total": "Responses streamed from a parent without caching because the disk stayed full.",
        "edgenode_cache_objects_committed_total": "Objects completed, verified and made visible in the cache.",
        "edgenode_cache_objects_evicted_total": "Objects deleted by the eviction policy.",
        "edgenode_cache_upstream_error_responses_total": "Error statuses passed on from parents.",
        "edgenode_cache_used_bytes": "Bytes of objects held in the cache.",
        "edgenode_cache_capacity_bytes": "The cache budget (cache_size), in bytes.",
        "edgenode_upstream_requests_total": "Requests to each parent, by kind (object or manifest).",
        "edgenode_parent_fetches_total": "Fetches from each parent by outcome: ok (verified), or the reason it failed.",
        "edgenode_parent_failures_total": "Failures of each parent by reason (mismatch, truncated, overrun, timeout, status, signature, error).",
        // Gossip.
        "edgenode_gossip_members": "Members of the fleet this node knows, by status (alive, suspect, dead, left).",
        "edgenode_gossip_packets_sent_total": "Gossip datagrams sent.",
        "edgenode_gossip_bytes_sent_total": "Gossip bytes sent.",
        "edgenode_gossip_packets_received_total": "Gossip datagrams received that opened and decoded.",
        "edgenode_gossip_bytes_received_total": "Gossip bytes received.",
        "edgenode_gossip_packets_dropped_total": "Gossip datagrams refused, by reason.",
        "edgenode_gossip_probes_sent_total": "SWIM probes sent.",
        "edgenode_gossip_probes_failed_total": "SWIM probes that got no acknowledgement, direct or indirect.",
        "edgenode_gossip_suspicions_raised_total": "Members this node began to suspect.",
        "edgenode_gossip_refutations_total": "Suspicions of this node that it refuted.",
        "edgenode_gossip_suspicions_refuted_total": "Suspicions of other members cleared by their refutation.",
        "edgenode_gossip_deaths_declared_total": "Members declared dead after their suspicion timed out.",
        "edgenode_gossip_records_rejected_total": "Cluster records refused by the validator (forged or unknown flags).",
        "edgenode_gossip_updates_refused_total": "Membership updates refused (about this node from others, or malformed).",
        "edgenode_gossip_member_changes_total": "Changes of members' status, by the status changed to.",
        // Routing and emergency mode.
        "edgenode_routing_decisions_total": "Viewer routing decisions by result (redirect, serve, degraded) and the first candidate's reason.",
        "edgenode_emergency_mode": "1 while emergency broadcast mode is on.",
        "edgenode_emergency_epoch": "The epoch of the emergency flag in force.",
        "edgenode_emergency_issued_timestamp_seconds": "When the operator issued the flag in force, in seconds since the Unix epoch.",
        "edgenode_emergency_signed_by": "The operator key that signed the flag in force (1 for that signer).",
        "edgenode_emergency_flips_total": "Changes of the emergency mode this node took.",
        "edgenode_emergency_flags_accepted_total": "Emergency flags posted to this node and taken.",
        "edgenode_emergency_flags_refused_total": "Emergency flags posted to this node and refused, by reason.",
        "edgenode_emergency_degraded_responses_total": "Viewer requests served by an origin or edge in emergency mode because no mesh or satellite node was healthy.",
        // The control module.
        "edgenode_control_requests_total": "Control API requests by method, route and status class.",
        "edgenode_control_request_seconds": "Control API request latency by route.",
        "edgenode_ledger_commit_batch_size": "Transfers committed together by one group-commit transaction.",
        "edgenode_ledger_entries": "Entries in the ledger's log.",
        "edgenode_ledger_checkpoint_timestamp_seconds": "When the last signed checkpoint was made, in seconds since the Unix epoch.",
        "edgenode_ledger_unsigned_entries": "Entries appended after the latest signed checkpoint.",
        "edgenode_ledger_integrity_ok": "1 when the ledger passed its integrity check at open, 0 when writes are refused.",
        // The access log.
        "edgenode_access_log_lines_dropped_total": "Access log lines dropped because the writer fell behind (the log is never allowed to slow responses).",
    ]
}
