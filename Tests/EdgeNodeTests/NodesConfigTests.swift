import Foundation
import Testing
@testable import EdgeNode
import Routing

@Suite struct NodesConfigTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static let minimal = """
        [[node]]
        name = "origin-1"
        role = "origin"
        region = "eu"
        latitude = 1.5
        longitude = 2
        http = "127.0.0.1:8080"
        content = "content"
        """

    static let edge = minimal.replacingOccurrences(of: "origin-1", with: "edge-1")
        .replacingOccurrences(of: "\"origin\"", with: "\"edge\"").replacingOccurrences(of: "127.0.0.1", with: "127.0.0.2")

    static func parse(_ text: String) throws(ConfigError) -> NodesConfig {
        try NodesConfig.parse(text, path: "test.conf", baseDirectory: "/srv/edgenode")
    }

    @Test func theSampleFleetLoads() throws {
        let config = try NodesConfig.load(path: Self.repositoryRoot + "/nodes.conf")
        #expect(config.fleetName == "demo")
        #expect(Set(config.nodes.map(\.role)) == Set(NodeRole.allCases))
        let mesh = try config.node(named: "mesh-lyon")
        #expect(mesh.parents == ["mesh-turin", "origin-1"])
        #expect(mesh.http == SocketAddressSpec(host: "127.0.0.4", port: 8080))
        #expect(mesh.content == Self.repositoryRoot + "/out/fleet/mesh-lyon")
        #expect(Set(config.nodes.map(\.http.host)).count == config.nodes.count, "each node has its own loopback address")
    }

    /// `view_sessions_per_address`, both sides of each limit.
    @Test func viewSessionsPerAddress() throws {
        #expect(try Self.parse(Self.minimal).royalty.counterSettings.sessionsPerAddress == 16, "the default")
        for (value, accepted) in [(0, false), (1, true), (10_000, true), (10_001, false), (-1, false)] {
            let text = "[royalty]\nview_sessions_per_address = \(value)\n" + Self.minimal
            let parsed = try? Self.parse(text)
            #expect((parsed != nil) == accepted, "\(value)")
            if let parsed { #expect(parsed.royalty.counterSettings.sessionsPerAddress == value) }
        }
        #expect(throws: ConfigError.self) { try Self.parse("[royalty]\nview_sessions_per_address = \"many\"\n" + Self.minimal) }
    }

    @Test func minimalNode() throws {
        let node = try Self.parse(Self.minimal).nodes[0]
        #expect(node.role == .origin && node.latitude == 1.5 && node.longitude == 2)
        #expect(node.content == "/srv/edgenode/content")
        #expect(node.parents.isEmpty && node.gossip == nil && node.threads == nil)
    }

    /// Every error names the file and the line or key, and says what is wrong.
    @Test(arguments: [
        ("name = ", "test.conf: line 1, column 8", "end-of-file"),
        ("", "test.conf: node", "no [[node]] tables"),
        (minimal + "\nport = 1", "node[0].port", "unknown key"),
        (minimal.replacingOccurrences(of: "role = \"origin\"", with: "role = \"cache\""), "node[0].role", "must be one of origin, edge, mesh, satellite"),
        (minimal.replacingOccurrences(of: "http = \"127.0.0.1:8080\"\n", with: ""), "node[0].http", "missing"),
        (minimal.replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:99999"), "node[0].http", "port in 1...65535"),
        (minimal.replacingOccurrences(of: "latitude = 1.5", with: "latitude = 91"), "node[0].latitude", "-90...90"),
        (minimal.replacingOccurrences(of: "latitude = 1.5", with: "latitude = \"north\""), "node[0].latitude", "must be a number"),
        (minimal + "\nparents = [\"edge-1\"]\n" + edge, "node[0].parents", "an origin has no parents"),
        (minimal + "\n" + minimal, "node[1].name", "duplicate node name"),
        (minimal + "\n" + edge + "\nparents = [\"ghost\"]", "node[1].parents", "unknown parent \"ghost\""),
        (minimal + "\n" + edge.replacingOccurrences(of: "127.0.0.2", with: "127.0.0.1"), "node[1].http", "used by another node"),
        (minimal.replacingOccurrences(of: "role = \"origin\"", with: "role = \"edge\"") + "\ncontrol = \"127.0.0.1:9000\"", "node[0].control", "only an origin"),
        (minimal.replacingOccurrences(of: "origin-1", with: "Origin One"), "node[0].name", "must be 1-64"),
        (minimal + "\nhttps = \"127.0.0.1:8443\"", "node[0].tls_cert", "https needs tls_cert and tls_key"),
        (minimal + "\ntls_cert = \"a.pem\"\ntls_key = \"a.key\"", "node[0].https", "are for an https listen address or an origin's control API"),
        (minimal + "\nhttps = \"127.0.0.1:8443\"\ntls_cert = \"a.pem\"", "node[0].tls_key", "needs both a certificate chain and its key"),
        (minimal + "\nhttps = \"127.0.0.1:8080\"\ntls_cert = \"a.pem\"\ntls_key = \"a.key\"", "node[0].https", "must differ from http"),
        (minimal + "\nhttps = \"127.0.0.2:8080\"\ntls_cert = \"a.pem\"\ntls_key = \"a.key\"\n" + edge, "node[1].http", "used by another node"),
        (minimal + "\naccess_log_format = \"json\"", "node[0].access_log_format", "needs access_log"),
        (minimal + "\naccess_log = \"a.log\"\naccess_log_format = \"clf\"", "node[0].access_log_format", "combined or json"),
        (minimal + "\nlog_level = \"loud\"", "node[0].log_level", "must be one of trace"),
        (minimal + "\n[operators]\nallow = [\"10.0.0.1/8\"]", "operators.allow", "bits set after its prefix length"),
        ("[fleet]\nname = 3\n" + minimal, "fleet.name", "must be a string"),
        (minimal + "\ncache_size = \"1GiB\"", "node[0].cache_size", "an origin has no cache"),
        (minimal + "\n" + edge + "\nparents = [\"origin-1\"]\norigin_key = \"k.pub\"\ncache_size = \"12 parsecs\"", "node[1].cache_size", "at least 1MiB"),
        (minimal + "\n" + edge + "\nparents = [\"origin-1\"]\norigin_key = \"k.pub\"\ncache_size = \"99999999999TiB\"", "node[1].cache_size", "at least 1MiB"),
        (minimal + "\n" + edge + "\nparents = [\"origin-1\"]\norigin_key = \"k.pub\"\nprefetch = 17", "node[1].prefetch", "0...16"),
        (minimal + "\n" + edge + "\nparents = [\"origin-1\"]\norigin_key = \"k.pub\"\nupstream_timeout = 0", "node[1].upstream_timeout", "1...300"),
        (minimal + "\n" + edge, "node[1].parents", "needs at least one parent"),
        (minimal + "\n" + edge + "\nparents = [\"origin-1\"]", "node[1].origin_key", "needs the origin's public key"),
        (minimal + "\n" + edge + "\nparents = [\"edge-2\"]\norigin_key = \"k.pub\"\n"
            + edge.replacingOccurrences(of: "edge-1", with: "edge-2").replacingOccurrences(of: "127.0.0.2", with: "127.0.0.3")
            + "\nparents = [\"edge-1\"]\norigin_key = \"k.pub\"", "parents", "cycle: edge-1 → edge-2 → edge-1"),
        // toml++ would abort the process on these (an assertion); they get an error like any other syntax mistake.
        ("[,fleet]\n" + minimal, "test.conf: line 1, column 2", "a table name must start with"),
        (minimal + "\n  [[ .node]]", "test.conf: line 9, column 6", "a table name must start with"),
        ("[[\nnode]]\n" + minimal, "test.conf: line 1, column 3", "a table name must start with"),
    ])
    func errorsNameTheirPlace(text: String, location: String, message: String) {
        do {
            _ = try Self.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(location), "\(error)")
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test func cacheSettings() throws {
        let text = Self.minimal + "\n" + Self.edge + "\nparents = [\"origin-1\"]\norigin_key = \"k.pub\"\ncache_size = \"512MiB\"\nprefetch = 0\nmanifest_ttl = 5\nupstream_timeout = 30"
        let edge = try Self.parse(text).node(named: "edge-1")
        #expect(edge.cacheSizeBytes == 512 << 20 && edge.prefetch == 0 && edge.manifestTTLSeconds == 5 && edge.upstreamTimeoutSeconds == 30)
        #expect(edge.originKey == "/srv/edgenode/k.pub")
        let defaults = try Self.parse(Self.minimal + "\n" + Self.edge + "\nparents = [\"origin-1\"]\norigin_key = \"k.pub\"").node(named: "edge-1")
        #expect(defaults.cacheSizeBytes == NodesConfig.defaultCacheSize && defaults.prefetch == 2 && defaults.manifestTTLSeconds == 60
                && defaults.upstreamTimeoutSeconds == 5)
        #expect(ByteSize.parse("1048576") == 1 << 20 && ByteSize.parse("3TiB") == 3 << 40 && ByteSize.parse("2 GiB") == 2 << 30)
        for bad in ["", "GiB", "1.5GiB", "-1", "1gb", "1 GiB extra", "9999999999999999999"] { #expect(ByteSize.parse(bad) == nil, "\(bad)") }
    }

    static let gossipErrors: [(String, String, String)] = [
        (minimal + "\ngossip = \"127.0.0.1:7946\"", "fleet.gossip_keyring", "needs a keyring"),
        ("[fleet]\ngossip_keyring = \"k\"\ngossip_seeds = [\"ghost\"]\n" + minimal + "\ngossip = \"127.0.0.1:7946\"", "fleet.gossip_seeds",
         "unknown node"),
        ("[fleet]\ngossip_keyring = \"k\"\ngossip_seeds = [\"origin-1\"]\n" + minimal, "fleet.gossip_seeds", "has no gossip address"),
        (minimal.replacingOccurrences(of: "region = \"eu\"", with: "region = \"" + String(repeating: "r", count: 65) + "\""), "node[0].region",
         "1-64 bytes"),
    ]

    static let zone = """
        [[zone]]
        name = "paris"
        networks = ["127.0.0.0/24", "2001:db8:1::/48"]
        latitude = 48.8566
        longitude = 2.3522
        """

    @Test func routingZonesAndURLs() throws {
        let text = """
            [routing]
            group_radius_km = 80
            load_penalty_km = 0
            overloaded_at = 700
            hysteresis_km = 20.5
            recovery_seconds = 4
            trusted_proxies = ["10.0.0.0/8", "::1"]
            geoip_db = "geo/city.mmdb"

            \(Self.zone)
            region = "eu-west"

            [[zone]]
            name = "paris-7"
            networks = ["127.0.0.7/32"]
            latitude = 48.85
            longitude = 2.31

            \(Self.minimal)
            url = "https://origin.example.net/cdn/"
            """
        let config = try Self.parse(text)
        let routing = config.routing
        #expect(routing.policy == .init(groupRadiusKm: 80, loadPenaltyKm: 0, overloadedAt: 700, hysteresisKm: 20.5, recoverySeconds: 4))
        #expect(routing.trustedProxies.map(\.description) == ["10.0.0.0/8", "::1/128"])
        #expect(routing.geoipDatabase == "/srv/edgenode/geo/city.mmdb")
        #expect(routing.zones.zone(of: IPAddress("127.0.0.7")!)?.name == "paris-7")
        #expect(routing.zones.zone(of: IPAddress("127.0.0.8")!)?.region == "eu-west")
        #expect(routing.zones.zone(of: IPAddress("2001:db8:1::9")!)?.name == "paris")
        #expect(config.nodes[0].url == "https://origin.example.net/cdn")
        let defaults = try Self.parse(Self.minimal)
        #expect(defaults.nodes[0].url == "http://127.0.0.1:8080")
        #expect(defaults.routing.policy == RoutingPolicy.Settings() && defaults.routing.zones.zones.isEmpty && defaults.routing.trustedProxies.isEmpty)
    }

    static let routingErrors: [(String, String, String)] = [
        ("[routing]\ngroup_radius_km = -1\n" + minimal, "routing.group_radius_km", "0...20000"),
        ("[routing]\nhysteresis_km = nan\n" + minimal, "routing.hysteresis_km", "0...20000"),
        ("[routing]\noverloaded_at = 0\n" + minimal, "routing.overloaded_at", "1...1000"),
        ("[routing]\nrecovery_seconds = 7200\n" + minimal, "routing.recovery_seconds", "0...3600"),
        ("[routing]\ntrusted_proxies = [\"10.0.0.1/8\"]\n" + minimal, "routing.trusted_proxies", "bits set after its prefix"),
        ("[routing]\ntrusted_proxies = \"10.0.0.0/8\"\n" + minimal, "routing.trusted_proxies", "array of strings"),
        ("[routing]\nzones = 3\n" + minimal, "routing.zones", "unknown key"),
        (zone.replacingOccurrences(of: "127.0.0.0/24", with: "127.0.0.0/33") + "\n" + minimal, "zone[0].networks", "not an IPv4 or IPv6 CIDR"),
        (zone.replacingOccurrences(of: "latitude = 48.8566", with: "latitude = 98") + "\n" + minimal, "zone[0].latitude", "-90...90"),
        (zone.replacingOccurrences(of: "[\"127.0.0.0/24\", \"2001:db8:1::/48\"]", with: "[]") + "\n" + minimal, "zone[0].networks", "at least one"),
        (zone + "\n" + zone.replacingOccurrences(of: "2001:db8:1::/48", with: "10.0.0.0/8") + "\n" + minimal, "zone", "defined twice"),
        (zone + "\n" + zone.replacingOccurrences(of: "paris", with: "lyon").replacingOccurrences(of: "2001:db8:1::/48", with: "10.0.0.0/8")
            + "\n" + minimal, "zone", "network 127.0.0.0/24 is in zone \"paris\" and in zone \"lyon\""),
        (zone.replacingOccurrences(of: "\"paris\"", with: "\"two words\"") + "\n" + minimal, "zone[0].name", "without spaces"),
        (zone + "\ncity = \"Paris\"\n" + minimal, "zone[0].city", "unknown key"),
        ("zone = 3\n" + minimal, "zone", "array of tables"),
        (minimal + "\nurl = \"ftp://example.net\"", "node[0].url", "http:// or https://"),
        (minimal + "\nurl = \"https://example.net/?a=b\"", "node[0].url", "no query"),
        (minimal + "\nurl = \"https:///path\"", "node[0].url", "with a host"),
    ]

    @Test(arguments: routingErrors) func routingErrorsNameTheirPlace(text: String, location: String, message: String) {
        errorsNameTheirPlace(text: text, location: location, message: message)
    }

    @Test(arguments: gossipErrors) func gossipAndRegionErrorsNameTheirPlace(text: String, location: String, message: String) {
        errorsNameTheirPlace(text: text, location: location, message: message)
    }

    /// An origin's `tls_cert` puts its control API on HTTPS, with or without an `https` listener; the CLI and the
    /// reporting nodes find the API's URL from the file.
    @Test func controlAPIOverTLS() throws {
        let control = "\ncontrol = \"127.0.0.1:9090\"\nledger_db = \"l.sqlite\"\nsigning_key = \"origin.key\""
        let plain = try Self.parse(Self.minimal + control)
        #expect(plain.controlNode?.name == "origin-1" && plain.controlURL == "http://127.0.0.1:9090")
        let secure = try Self.parse(Self.minimal + control + "\ntls_cert = \"tls/o.pem\"\ntls_key = \"tls/o.key\"")
        #expect(secure.controlURL == "https://127.0.0.1:9090" && secure.nodes[0].https == nil)
        #expect(secure.nodes[0].tlsCertificate == "/srv/edgenode/tls/o.pem")
        #expect(try Self.parse(Self.minimal).controlURL == nil)
        #expect(try NodesConfig.load(path: Self.repositoryRoot + "/nodes.conf").controlURL == "https://127.0.0.1:9090", "the sample origin has a certificate")
    }

    @Test func gossipSettings() throws {
        let config = try NodesConfig.load(path: Self.repositoryRoot + "/nodes.conf")
        #expect(config.gossipKeyring == Self.repositoryRoot + "/out/demo/gossip.keyring")
        #expect(config.gossipSeeds == ["origin-1", "edge-paris"])
        let defaults = try Self.parse("[fleet]\ngossip_keyring = \"k\"\n" + Self.minimal + "\ngossip = \"127.0.0.1:7946\"")
        #expect(defaults.gossipSeeds == ["origin-1"], "the origins by default")
    }

    /// Mesh peers may name each other: they are only asked for what they hold, so no fill can loop.
    @Test func meshPeersMayNameEachOther() throws {
        let config = try NodesConfig.load(path: Self.repositoryRoot + "/nodes.conf")
        #expect(try config.node(named: "mesh-turin").parents.contains("mesh-lyon"))
    }

    @Test func unknownNodeAndUnreadableFile() {
        #expect(throws: ConfigError.self) { try Self.parse(Self.minimal).node(named: "edge-9") }
        do {
            _ = try NodesConfig.load(path: "/nonexistent/nodes.conf")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description.contains("/nonexistent/nodes.conf") && error.description.contains("no such file"))
        }
    }

    @Test func socketAddresses() {
        #expect(SocketAddressSpec("[::1]:8080") == SocketAddressSpec(host: "::1", port: 8080))
        for bad in ["", "host", ":80", "host:0", "host:65536", "host:08", "a b:1", "::1:80"] {
            #expect(SocketAddressSpec(bad) == nil, "\(bad)")
        }
    }
}
