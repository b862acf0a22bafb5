import Foundation
import Logging
import Manifest
import Routing
import TOMLKit

/// The fleet-wide `nodes.conf` (TOML): one `[[node]]` table per node.
///
/// ```toml
/// [fleet]
/// name = "demo"
/// gossip_keyring = "keys/gossip.keyring"  # required when nodes gossip: AES-256 keys, 0600 (edgenode gossip-key)
/// gossip_seeds = ["origin-1"]             # optional: nodes to join through (default: the origins)
/// operator_keys = ["keys/alice.pub"]      # optional: public keys that may sign emergency flags (edgenode operator keygen)
/// emergency_max_skew = 300                 # optional: seconds a posted flag's issue time may differ from the clock (1...86400)
/// tls_ca = "tls/ca.pem"                    # optional: fills go to parents' https addresses and control calls to an
///                                         # origin's TLS control API, verified against this CA
///
/// [[node]]
/// name = "origin-1"
/// role = "origin"            # origin | edge | mesh | satellite
/// region = "eu-west"
/// latitude = 48.8566
/// longitude = 2.3522
/// http = "127.0.0.1:8080"    # viewer-facing listen address
/// content = "content"        # content or cache directory; relative to this file's directory
/// parents = []               # ordered parent node names (edge, mesh, satellite)
/// gossip = "127.0.0.1:7946"  # optional: gossip listen address
/// control = "127.0.0.1:9090" # optional, origin only: control API listen address (needs the three keys below)
/// ledger_db = "ledger.sqlite" # origin with control: the ledger's SQLite database
/// signing_key = "keys/origin.key" # origin with control: the origin's private key, signs ledger checkpoints
/// checkpoint_interval = 60   # origin with control: seconds between checkpoints while the log grows (1...3600)
/// ledger_witness = "witness.jsonl" # optional, origin with control: also append each checkpoint to this file
/// tip_artist_share = 9000    # optional, origin with control: the artist's share of a tip in basis points (0...10000)
/// origin_key = "keys/origin.pub"  # optional: the origin's public key, to verify manifests
/// threads = 2                # optional: event loop threads (default: one per core)
/// max_connections = 10000    # optional
/// cache_size = "10GiB"       # edge, mesh, satellite: disk cache budget (bytes, or with KiB/MiB/GiB/TiB)
/// prefetch = 2               # edge, mesh, satellite: segments filled ahead of a viewer (0...16)
/// manifest_ttl = 60          # edge, mesh, satellite: seconds a manifest is used before it is revalidated
/// upstream_timeout = 5       # edge, mesh, satellite: seconds to connect to a parent, and of silence mid-response
/// report_key = "keys/edge-paris" # optional: PATH.key signs this node's delivery reports; the origin checks them with PATH.pub
/// report_token = "keys/edge-paris.token" # optional: a node:NAME control API token the node sends its reports with
/// log_level = "info"         # optional: trace, debug, info, notice, warning, error or critical (a reload changes it)
/// https = "127.0.0.1:8443"   # optional: also serve HTTPS here (TLS 1.2/1.3, ALPN http/1.1), with the two below
/// tls_cert = "tls/node.pem"  # with https, or on an origin with control (its API then speaks only HTTPS): PEM
///                            # certificate chain, leaf first (reloaded by SIGHUP)
/// tls_key = "tls/node.key"   # with tls_cert: PEM private key, mode 0600
/// access_log = "logs/edge.access.log" # optional: one line per response, written off the hot path (reopened at a reload)
/// access_log_format = "combined"      # optional: combined (with ttfb=, total=, cache=) or json
/// ```
///
/// A non-origin node asks its parents in order. A parent whose role is `mesh` is a peer: it is asked only for what it
/// already holds (`Cache-Control: only-if-cached`), so mesh peers can name each other without fill loops; any other
/// chain of parents must end at the origin without a cycle.
public struct NodesConfig: Sendable {
    /// One node's entry.
    public struct Node: Sendable, Equatable {
        public var name: String
        public var role: NodeRole
        public var region: String
        public var latitude: Double
        public var longitude: Double
        public var http: SocketAddressSpec
        /// The public base URL viewers reach the node at (no trailing slash): redirects and steering use it.
        public var url: String
        /// The base URL viewers reach the node at over HTTPS: `url` when that is https://, else `url`'s host at the
        /// `https` port; nil for a node without an HTTPS listener (a viewer who came over HTTPS is never sent there).
        public var httpsURL: String? {
            if url.hasPrefix("https://") { return url }
            guard let https, var components = URLComponents(string: url) else { return nil }
            components.scheme = "https"
            components.port = https.port
            return components.string
        }
        /// Absolute path of the content or cache directory.
        public var content: String
        public var parents: [String]
        public var gossip: SocketAddressSpec?
        public var control: SocketAddressSpec?
        /// Absolute path of the origin's public key, if given.
        public var originKey: String?
        public var threads: Int?
        public var maxConnections: Int?
        /// Disk cache budget in bytes (non-origin nodes).
        public var cacheSizeBytes: Int64
        /// Segments filled ahead of a viewer (non-origin nodes).
        public var prefetch: Int
        /// Seconds a manifest is trusted before it is revalidated with a parent (non-origin nodes).
        public var manifestTTLSeconds: Int
        /// Seconds to connect to a parent and of silence allowed mid-response (non-origin nodes).
        public var upstreamTimeoutSeconds: Int
        /// The control module's settings (an origin with a `control` address).
        public var ledger: LedgerSettings?
        /// Absolute path prefix of the node's report key pair (`PATH.key` on the node, `PATH.pub` on the origin).
        public var reportKey: String?
        /// Absolute path of the node's control API token file.
        public var reportToken: String?
        /// The level the node logs at (`log_level`; `serve --log-level` overrides it; default info).
        public var logLevel: Logger.Level?
        /// A second listen address for HTTPS (`https`), with `tlsCertificate` and `tlsKey`.
        public var https: SocketAddressSpec?
        /// Absolute path of the PEM certificate chain, leaf first (`tls_cert`).
        public var tlsCertificate: String?
        /// Absolute path of the PEM private key, mode 0600 (`tls_key`).
        public var tlsKey: String?
        /// Absolute path of the access log (`access_log`), if the node keeps one.
        public var accessLog: String?
        /// `access_log_format`: combined (default) or json.
        public var accessLogFormat = AccessLogFormat.combined
    }

    /// Where an origin's control module keeps its ledger and how it signs it.
    public struct LedgerSettings: Sendable, Equatable {
        /// Absolute path of the SQLite database.
        public var database: String
        /// Absolute path of the origin's private key.
        public var signingKey: String
        /// Seconds between checkpoints while the log grows.
        public var checkpointIntervalSeconds: Int
        /// Absolute path of a witness file that also receives each checkpoint, if any.
        public var witness: String?
        /// The artist's share of a tip, in basis points (`tip_artist_share`, default 9000: 90 %).
        public var tipArtistShareBasisPoints: UInt16 = 9_000
    }

    /// Default disk cache budget: 10 GiB.
    public static let defaultCacheSize: Int64 = 10 << 30

    /// The largest configuration file read.
    public static let maximumSize = 1 << 20

    public let path: String
    public let fleetName: String
    /// Absolute path of the gossip keyring, when nodes gossip.
    public let gossipKeyring: String?
    /// Names of the nodes a gossiping node joins through.
    public let gossipSeeds: [String]
    public let nodes: [Node]
    /// Coverage zones and the routing policy's settings.
    public let routing: RoutingConfig
    /// Absolute paths of the operators' public keys (`[fleet] operator_keys`): the keys that may sign an emergency
    /// flag. Origin keys are not operator keys.
    public var operatorKeys: [String] = []
    /// How far a flag posted to `POST /fleet/emergency` may have been issued from this node's clock, in seconds
    /// (`[fleet] emergency_max_skew`).
    public var emergencyMaximumSkewSeconds: Int64 = 300
    /// The royalty rules' settings (`[royalty]`).
    public var royalty = RoyaltyConfig()
    /// Who may read `/metrics`, `/cluster` and the status page's data besides loopback (`[operators]`).
    public var operators = OperatorsConfig()
    /// Absolute path of the fleet's CA certificate (`[fleet] tls_ca`): with it, fills go to parents' `https` addresses
    /// and their certificates are verified against it, as is an origin's control API certificate by reporting nodes
    /// and the CLI.
    public var tlsCA: String?

    /// The name of the one node of a `standalone` configuration.
    public static let standaloneNode = "standalone"

    /// A one-node fleet for `serve --root DIR --listen ADDR`: an origin serving one directory, without gossip or
    /// control module.
    public static func standalone(root: String, listen: SocketAddressSpec,
                                  https: (address: SocketAddressSpec, certificate: String, key: String)? = nil) -> NodesConfig {
        var node = Node(name: standaloneNode, role: .origin, region: "local", latitude: 0, longitude: 0, http: listen,
                        url: "http://\(listen)", content: root, parents: [], gossip: nil, control: nil, originKey: nil, threads: nil,
                        maxConnections: nil, cacheSizeBytes: defaultCacheSize, prefetch: 0, manifestTTLSeconds: 60,
                        upstreamTimeoutSeconds: 5, ledger: nil)
        node.https = https?.address
        node.tlsCertificate = https?.certificate
        node.tlsKey = https?.key
        return NodesConfig(path: "(standalone)", fleetName: "standalone", gossipKeyring: nil, gossipSeeds: [], nodes: [node],
                           routing: .standard)
    }

    /// The node named `name`.
    public func node(named name: String) throws(ConfigError) -> Node {
        guard let node = nodes.first(where: { $0.name == name }) else {
            throw ConfigError(file: path, location: "node", message: "no node named \"\(name)\" (known: \(nodes.map(\.name).joined(separator: ", ")))")
        }
        return node
    }

    /// Reads and validates a configuration file.
    public static func load(path: String) throws(ConfigError) -> NodesConfig {
        let data: Data
        do {
            data = try AtomicFile.read(path, limit: maximumSize)
        } catch {
            throw ConfigError(file: path, location: nil, message: error.reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, location: nil, message: "not UTF-8 text")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, path: path, baseDirectory: base)
    }

    /// Parses configuration text; relative paths resolve against `baseDirectory`.
    public static func parse(_ text: String, path: String, baseDirectory: String) throws(ConfigError) -> NodesConfig {
        if let (line, column) = TableHeaderCheck.firstBadHeader(in: text) {
            throw ConfigError(file: path, location: "line \(line), column \(column)",
                              message: "a table name must start with a letter, digit, '_', '-' or a quote")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(file: path, location: "line \(error.source.begin.line), column \(error.source.begin.column)",
                              message: error.description)
        } catch {
            throw ConfigError(file: path, location: nil, message: "\(error)")
        }
        var reader = TableReader(table: table, path: path, location: "")
        try reader.allowOnly(["fleet", "node", "routing", "zone", "royalty", "operators"])
        var fleetName = "edgenode"
        var operatorKeys: [String] = []
        var skew = 300
        var keyring: String?
        var seeds: [String]?
        var tlsCA: String?
        if let fleet = try reader.table("fleet") {
            var fleetReader = TableReader(table: fleet, path: path, location: "fleet")
            try fleetReader.allowOnly(["name", "gossip_keyring", "gossip_seeds", "operator_keys", "emergency_max_skew", "tls_ca"])
            tlsCA = try fleetReader.string("tls_ca").map { resolve($0, base: baseDirectory) }
            fleetName = try fleetReader.string("name") ?? fleetName
            keyring = try fleetReader.string("gossip_keyring").map { resolve($0, base: baseDirectory) }
            seeds = try fleetReader.strings("gossip_seeds")
            operatorKeys = try fleetReader.strings("operator_keys")?.map { resolve($0, base: baseDirectory) } ?? []
            skew = try fleetReader.integer("emergency_max_skew") ?? skew
            guard (1...86_400).contains(skew) else { throw fleetReader.error("emergency_max_skew", "must be within 1...86400 seconds") }
        }
        guard let nodeArray = table["node"]?.array else {
            throw ConfigError(file: path, location: "node", message: "no [[node]] tables: the fleet needs at least one node")
        }
        var nodes: [Node] = []
        for (index, value) in nodeArray.enumerated() {
            let location = "node[\(index)]"
            guard let nodeTable = value.table else {
                throw ConfigError(file: path, location: location, message: "must be a table ([[node]])")
            }
            nodes.append(try parseNode(TableReader(table: nodeTable, path: path, location: location), base: baseDirectory))
        }
        try validateFleet(nodes, path: path)
        if nodes.contains(where: { $0.gossip != nil }) && keyring == nil {
            throw ConfigError(file: path, location: "fleet.gossip_keyring",
                              message: "nodes gossip, so the fleet needs a keyring (gossip is always authenticated and encrypted)")
        }
        for seed in seeds ?? [] {
            guard let node = nodes.first(where: { $0.name == seed }) else {
                throw ConfigError(file: path, location: "fleet.gossip_seeds", message: "unknown node \"\(seed)\"")
            }
            guard node.gossip != nil else {
                throw ConfigError(file: path, location: "fleet.gossip_seeds", message: "node \"\(seed)\" has no gossip address")
            }
        }
        let defaultSeeds = nodes.filter { $0.role == .origin && $0.gossip != nil }.map(\.name)
        let routing = try RoutingConfig.parse(routing: try reader.table("routing"), zones: table["zone"], path: path, base: baseDirectory)
        for key in operatorKeys where nodes.contains(where: { $0.originKey == key }) {
            throw ConfigError(file: path, location: "fleet.operator_keys", message: "\(key) is an origin key; operator keys are separate keys")
        }
        var config = NodesConfig(path: path, fleetName: fleetName, gossipKeyring: keyring, gossipSeeds: seeds ?? defaultSeeds, nodes: nodes,
                                 routing: routing)
        config.operatorKeys = operatorKeys
        config.emergencyMaximumSkewSeconds = Int64(skew)
        config.royalty = try RoyaltyConfig.parse(try reader.table("royalty"), path: path, base: baseDirectory)
        config.operators = try OperatorsConfig.parse(try reader.table("operators"), path: path, base: baseDirectory)
        config.tlsCA = tlsCA
        return config
    }

    /// The operators' verifier keys, read from `operatorKeys`; a file that cannot be read or is not a public key is a
    /// configuration error naming it.
    public func loadOperatorKeys() throws(ConfigError) -> [NoteVerifier] {
        var keys: [NoteVerifier] = []
        for key in operatorKeys {
            do {
                keys.append(try KeyStore.loadVerifier(path: key))
            } catch {
                throw ConfigError(file: path, location: "fleet.operator_keys", message: "\(error)")
            }
        }
        return keys
    }

    private static func parseNode(_ reader: TableReader, base: String) throws(ConfigError) -> Node {
        var reader = reader
        try reader.allowOnly(["name", "role", "region", "latitude", "longitude", "http", "url", "content", "parents", "gossip",
                              "control", "origin_key", "threads", "max_connections", "cache_size", "prefetch", "manifest_ttl",
                              "upstream_timeout", "ledger_db", "signing_key", "checkpoint_interval", "ledger_witness",
                              "tip_artist_share", "report_key", "report_token", "log_level",
                              "access_log", "access_log_format", "https", "tls_cert", "tls_key"])
        let name = try reader.requiredString("name")
        guard !name.isEmpty, name.utf8.count <= 64,
              name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2d || $0 == 0x5f || $0 == 0x2e })
        else { throw reader.error("name", "must be 1-64 of a-z 0-9 . _ - (got \"\(name)\")") }
        let roleText = try reader.requiredString("role")
        guard let role = NodeRole(rawValue: roleText) else {
            throw reader.error("role", "must be one of \(NodeRole.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(roleText)\")")
        }
        let latitude = try reader.requiredNumber("latitude")
        guard (-90...90).contains(latitude) else { throw reader.error("latitude", "must be within -90...90 (got \(latitude))") }
        let longitude = try reader.requiredNumber("longitude")
        guard (-180...180).contains(longitude) else { throw reader.error("longitude", "must be within -180...180 (got \(longitude))") }
        let threads = try reader.integer("threads")
        if let threads, !(1...256).contains(threads) { throw reader.error("threads", "must be within 1...256") }
        let maxConnections = try reader.integer("max_connections")
        if let maxConnections, !(1...1_000_000).contains(maxConnections) { throw reader.error("max_connections", "must be within 1...1000000") }
        let control = try reader.address("control")
        if control != nil && role != .origin { throw reader.error("control", "only an origin hosts the control API") }
        var ledger: LedgerSettings?
        if control != nil {
            guard let database = try reader.string("ledger_db") else { throw reader.error("ledger_db", "missing: the control API needs a ledger database") }
            guard let key = try reader.string("signing_key") else {
                throw reader.error("signing_key", "missing: the control API signs ledger checkpoints with the origin's private key")
            }
            let interval = try reader.integer("checkpoint_interval") ?? 60
            guard (1...3600).contains(interval) else { throw reader.error("checkpoint_interval", "must be within 1...3600 seconds") }
            ledger = LedgerSettings(database: resolve(database, base: base), signingKey: resolve(key, base: base),
                                    checkpointIntervalSeconds: interval,
                                    witness: try reader.string("ledger_witness").map { resolve($0, base: base) })
            if let share = try reader.integer("tip_artist_share") {
                guard (0...10_000).contains(share) else { throw reader.error("tip_artist_share", "must be within 0...10000 basis points") }
                ledger?.tipArtistShareBasisPoints = UInt16(share)
            }
        } else {
            for key in ["ledger_db", "signing_key", "checkpoint_interval", "ledger_witness", "tip_artist_share"] where reader.table[key] != nil {
                throw reader.error(key, "only an origin with a control address keeps a ledger")
            }
        }
        for key in ["cache_size", "prefetch", "manifest_ttl", "upstream_timeout"] where role == .origin && reader.table[key] != nil {
            throw reader.error(key, "an origin has no cache (it holds the masters)")
        }
        var cacheSize = defaultCacheSize
        if let text = try reader.string("cache_size") {
            guard let bytes = ByteSize.parse(text), bytes >= 1 << 20 else {
                throw reader.error("cache_size", "must be a size of at least 1MiB such as \"512MiB\" or \"10GiB\" (got \"\(text)\")")
            }
            cacheSize = bytes
        }
        let prefetch = try reader.integer("prefetch") ?? 2
        guard (0...16).contains(prefetch) else { throw reader.error("prefetch", "must be within 0...16") }
        let manifestTTL = try reader.integer("manifest_ttl") ?? 60
        guard (1...86_400).contains(manifestTTL) else { throw reader.error("manifest_ttl", "must be within 1...86400 seconds") }
        let upstreamTimeout = try reader.integer("upstream_timeout") ?? 5
        guard (1...300).contains(upstreamTimeout) else { throw reader.error("upstream_timeout", "must be within 1...300 seconds") }
        let region = try reader.requiredString("region")
        guard !region.isEmpty, region.utf8.count <= 64 else { throw reader.error("region", "must be 1-64 bytes") }
        let http = try reader.requiredAddress("http")
        let reportKey = try reader.string("report_key").map { resolve($0, base: base) }
        let reportToken = try reader.string("report_token").map { resolve($0, base: base) }
        if (reportKey == nil) != (reportToken == nil) {
            throw reader.error(reportKey == nil ? "report_key" : "report_token", "missing: a node reports its deliveries with both a key and a token")
        }
        var node = Node(
            name: name, role: role, region: region, latitude: latitude, longitude: longitude,
            http: http, url: try publicURL(reader, http: http), content: resolve(try reader.requiredString("content"), base: base),
            parents: try reader.strings("parents") ?? [], gossip: try reader.address("gossip"), control: control,
            originKey: try reader.string("origin_key").map { resolve($0, base: base) }, threads: threads,
            maxConnections: maxConnections, cacheSizeBytes: cacheSize, prefetch: prefetch, manifestTTLSeconds: manifestTTL,
            upstreamTimeoutSeconds: upstreamTimeout, ledger: ledger)
        node.reportKey = reportKey
        node.reportToken = reportToken
        if let level = try reader.string("log_level") {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw reader.error("log_level", "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(level)\")")
            }
            node.logLevel = parsed
        }
        node.https = try reader.address("https")
        node.tlsCertificate = try reader.string("tls_cert").map { resolve($0, base: base) }
        node.tlsKey = try reader.string("tls_key").map { resolve($0, base: base) }
        if (node.tlsCertificate == nil) != (node.tlsKey == nil) {
            throw reader.error(node.tlsCertificate == nil ? "tls_cert" : "tls_key", "missing: TLS needs both a certificate chain and its key")
        }
        if node.https != nil && node.tlsCertificate == nil {
            throw reader.error("tls_cert", "missing: https needs tls_cert and tls_key (PEM)")
        }
        if node.tlsCertificate != nil && node.https == nil && control == nil {
            throw reader.error("https", "missing: tls_cert and tls_key are for an https listen address or an origin's control API")
        }
        if let https = node.https, https == http { throw reader.error("https", "must differ from http (\(http))") }
        node.accessLog = try reader.string("access_log").map { resolve($0, base: base) }
        if let format = try reader.string("access_log_format") {
            guard node.accessLog != nil else { throw reader.error("access_log_format", "needs access_log (the file to write)") }
            guard let parsed = AccessLogFormat(rawValue: format) else {
                throw reader.error("access_log_format", "must be combined or json (got \"\(format)\")")
            }
            node.accessLogFormat = parsed
        }
        return node
    }

    /// `url`, checked: http or https with a host (a path is kept as a prefix), no query, fragment or user; by default
    /// `http://` and the `http` address.
    private static func publicURL(_ reader: TableReader, http: SocketAddressSpec) throws(ConfigError) -> String {
        guard let text = try reader.string("url") else { return "http://\(http)" }
        guard text.utf8.count <= 512, let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
              components.query == nil, components.fragment == nil, components.user == nil, components.password == nil
        else { throw reader.error("url", "must be an http:// or https:// base URL with a host and no query, fragment or user (got \"\(text)\")") }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    private static func validateFleet(_ nodes: [Node], path: String) throws(ConfigError) {
        var seenNames: Set<String> = []
        var seenHTTP: Set<String> = []
        for (index, node) in nodes.enumerated() {
            let location = "node[\(index)]"
            guard seenNames.insert(node.name).inserted else {
                throw ConfigError(file: path, location: "\(location).name", message: "duplicate node name \"\(node.name)\"")
            }
            guard seenHTTP.insert(node.http.description).inserted else {
                throw ConfigError(file: path, location: "\(location).http", message: "address \(node.http) is used by another node")
            }
            if let https = node.https, !seenHTTP.insert(https.description).inserted {
                throw ConfigError(file: path, location: "\(location).https", message: "address \(https) is used by another node")
            }
        }
        for (index, node) in nodes.enumerated() {
            for parent in node.parents {
                guard nodes.contains(where: { $0.name == parent }) else {
                    throw ConfigError(file: path, location: "node[\(index)].parents", message: "unknown parent \"\(parent)\"")
                }
                guard parent != node.name else {
                    throw ConfigError(file: path, location: "node[\(index)].parents", message: "a node cannot be its own parent")
                }
            }
            if node.role == .origin && !node.parents.isEmpty {
                throw ConfigError(file: path, location: "node[\(index)].parents", message: "an origin has no parents")
            }
            if node.role != .origin {
                if node.parents.isEmpty {
                    throw ConfigError(file: path, location: "node[\(index)].parents", message: "a \(node.role.rawValue) node needs at least one parent")
                }
                if node.originKey == nil {
                    throw ConfigError(file: path, location: "node[\(index)].origin_key",
                                      message: "a \(node.role.rawValue) node needs the origin's public key to verify what its parents send")
                }
            }
        }
        try checkFillCycles(nodes, path: path)
    }

    /// Fills follow parents that are not mesh peers (peers only answer from their cache): that graph must be acyclic.
    private static func checkFillCycles(_ nodes: [Node], path: String) throws(ConfigError) {
        let byName = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) })
        var finished: Set<String> = []
        for (index, start) in nodes.enumerated() where !finished.contains(start.name) {
            var onPath: [String] = []
            var stack: [(name: String, next: Int)] = [(start.name, 0)]
            onPath.append(start.name)
            while var top = stack.popLast() {
                let fillParents = byName[top.name]!.parents.filter { byName[$0]!.role != .mesh }
                if top.next < fillParents.count {
                    let parent = fillParents[top.next]
                    top.next += 1
                    stack.append(top)
                    if onPath.contains(parent) {
                        throw ConfigError(file: path, location: "node[\(index)].parents",
                                          message: "parents form a cycle: \((onPath + [parent]).joined(separator: " → "))")
                    }
                    if !finished.contains(parent) {
                        stack.append((parent, 0))
                        onPath.append(parent)
                    }
                } else {
                    finished.insert(top.name)
                    onPath.removeLast()
                }
            }
        }
    }

    static func resolve(_ path: String, base: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }
}

/// A configuration error naming the file, where in it, and what is wrong.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    /// "line 3, column 7", or a key path such as "node[2].http".
    public let location: String?
    public let message: String

    public var description: String { "\(file)\(location.map { ": \($0)" } ?? ""): \(message)" }
}

/// Typed, checked access to one TOML table, with errors that name the key.
struct TableReader {
    let table: TOMLTable
    let path: String
    let location: String

    func key(_ name: String) -> String { location.isEmpty ? name : "\(location).\(name)" }

    func error(_ name: String, _ message: String) -> ConfigError {
        ConfigError(file: path, location: key(name), message: message)
    }

    /// Rejects unknown keys, which are usually typos.
    mutating func allowOnly(_ keys: Set<String>) throws(ConfigError) {
        for name in table.keys where !keys.contains(name) {
            throw error(name, "unknown key (expected one of: \(keys.sorted().joined(separator: ", ")))")
        }
    }

    func table(_ name: String) throws(ConfigError) -> TOMLTable? {
        guard let value = table[name] else { return nil }
        guard let result = value.table else { throw error(name, "must be a table") }
        return result
    }

    func string(_ name: String) throws(ConfigError) -> String? {
        guard let value = table[name] else { return nil }
        guard let result = value.string else { throw error(name, "must be a string") }
        return result
    }

    func requiredString(_ name: String) throws(ConfigError) -> String {
        guard let result = try string(name) else { throw error(name, "missing") }
        return result
    }

    func integer(_ name: String) throws(ConfigError) -> Int? {
        guard let value = table[name] else { return nil }
        guard let result = value.int else { throw error(name, "must be an integer") }
        return result
    }

    func requiredNumber(_ name: String) throws(ConfigError) -> Double {
        guard let result = try number(name) else { throw error(name, "missing") }
        return result
    }

    func number(_ name: String) throws(ConfigError) -> Double? {
        guard let value = table[name] else { return nil }
        if let double = value.double { return double }
        if let int = value.int { return Double(int) }
        throw error(name, "must be a number")
    }

    func strings(_ name: String) throws(ConfigError) -> [String]? {
        guard let value = table[name] else { return nil }
        guard let array = value.array else { throw error(name, "must be an array of strings") }
        var result: [String] = []
        for item in array {
            guard let text = item.string else { throw error(name, "must be an array of strings") }
            result.append(text)
        }
        return result
    }

    func address(_ name: String) throws(ConfigError) -> SocketAddressSpec? {
        guard let text = try string(name) else { return nil }
        guard let address = SocketAddressSpec(text) else { throw error(name, "must be host:port with a port in 1...65535 (got \"\(text)\")") }
        return address
    }

    func requiredAddress(_ name: String) throws(ConfigError) -> SocketAddressSpec {
        guard let address = try address(name) else { throw error(name, "missing") }
        return address
    }
}
