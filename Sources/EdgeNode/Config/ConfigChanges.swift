/// What a re-read `nodes.conf` changes for one node, as `nodes.conf` names: what a reload puts in force at once, and
/// what waits for a restart (addresses and directories the node is bound to, keys its services were built with).
public struct ConfigChanges: Sendable, Equatable {
    /// Taken by the running node: `nodes` (added, removed or readdressed: routing and the gossip roster), `zones`,
    /// `routing`, `operator_keys`, `emergency_max_skew`, `operators`, `parents`, `cache_size`, `log_level`.
    public var applied: [String] = []
    /// Kept as they were until the node restarts (logged as such).
    public var needRestart: [String] = []

    /// Whether anything differs.
    public var isEmpty: Bool { applied.isEmpty && needRestart.isEmpty }

    /// The changes from `old` to `new` for the node `name`, which both must hold (a file without it is refused
    /// before this is asked).
    public init(from old: NodesConfig, to new: NodesConfig, node name: String) {
        guard let before = old.nodes.first(where: { $0.name == name }), let after = new.nodes.first(where: { $0.name == name }) else {
            return
        }
        func note(_ key: String, _ differs: Bool, live: Bool) {
            guard differs else { return }
            if live { applied.append(key) } else { needRestart.append(key) }
        }
        // The fleet as a whole.
        let othersBefore = old.nodes.filter { $0.name != name }, othersAfter = new.nodes.filter { $0.name != name }
        note("nodes", othersBefore != othersAfter || before.url != after.url || before.region != after.region
             || before.latitude != after.latitude || before.longitude != after.longitude, live: true)
        note("zones", old.routing.zones.zones != new.routing.zones.zones, live: true)
        note("routing", old.routing.policy != new.routing.policy || old.routing.trustedProxies != new.routing.trustedProxies
             || old.routing.geoipDatabase != new.routing.geoipDatabase, live: true)
        note("operator_keys", old.operatorKeys != new.operatorKeys, live: true)
        note("emergency_max_skew", old.emergencyMaximumSkewSeconds != new.emergencyMaximumSkewSeconds, live: true)
        note("gossip_seeds", old.gossipSeeds != new.gossipSeeds, live: false)
        note("operators", old.operators != new.operators, live: true)
        note("tls_ca", old.tlsCA != new.tlsCA, live: true)
        note("fleet.name", old.fleetName != new.fleetName, live: false)
        note("gossip_keyring", old.gossipKeyring != new.gossipKeyring, live: false)
        note("royalty", old.royalty != new.royalty, live: false)
        // This node's own entry.
        note("parents", before.parents != after.parents, live: true)
        note("cache_size", before.cacheSizeBytes != after.cacheSizeBytes, live: true)
        note("log_level", before.logLevel != after.logLevel, live: true)
        note("tls_cert", before.tlsCertificate != after.tlsCertificate || before.tlsKey != after.tlsKey, live: before.tlsCertificate != nil && after.tlsCertificate != nil)
        for (key, differs) in [
            ("role", before.role != after.role), ("http", before.http != after.http), ("https", before.https != after.https),
            ("content", before.content != after.content),
            ("gossip", before.gossip != after.gossip), ("control", before.control != after.control),
            ("origin_key", before.originKey != after.originKey), ("threads", before.threads != after.threads),
            ("max_connections", before.maxConnections != after.maxConnections), ("prefetch", before.prefetch != after.prefetch),
            ("manifest_ttl", before.manifestTTLSeconds != after.manifestTTLSeconds),
            ("upstream_timeout", before.upstreamTimeoutSeconds != after.upstreamTimeoutSeconds),
            ("ledger", before.ledger != after.ledger), ("report_key", before.reportKey != after.reportKey),
            ("report_token", before.reportToken != after.reportToken), ("access_log", before.accessLog != after.accessLog),
            ("access_log_format", before.accessLogFormat != after.accessLogFormat),
        ] {
            note(key, differs, live: false)
        }
    }
}
