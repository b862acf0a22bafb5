import Foundation
import Routing
import TOMLKit

/// How viewers are routed: `nodes.conf`'s `[routing]` table and its `[[zone]]` tables.
///
/// ```toml
/// [routing]
/// group_radius_km = 50        # nodes within this of the nearest form its group (0...20000)
/// load_penalty_km = 500       # distance added for a fully loaded node (0...20000)
/// overloaded_at = 900         # load (0...1000) from which a node takes no new viewers (1...1000)
/// hysteresis_km = 100         # how much nearer another node must be to move a viewer (0...20000)
/// recovery_seconds = 10       # a node back for less than this ranks after settled ones (0...3600)
/// trusted_proxies = ["10.0.0.0/8"]   # X-Forwarded-For is read only from these peers
/// geoip_db = "GeoLite2-City.mmdb"    # optional: for viewers in no zone
///
/// [[zone]]                    # Traffic Router's coverage zones: the longest matching prefix wins
/// name = "paris"
/// networks = ["192.0.2.0/24", "2001:db8:1::/48"]
/// latitude = 48.8566
/// longitude = 2.3522
/// region = "eu-west"          # optional
/// ```
public struct RoutingConfig: Sendable {
    public var policy: RoutingPolicy.Settings
    public var trustedProxies: [IPNetwork]
    /// Absolute path of a MaxMind-format database, if any.
    public var geoipDatabase: String?
    public var zones: CoverageZones

    /// The most zones, and networks in one zone, a file may give.
    static let maximumZones = 100_000
    static let maximumNetworksPerZone = 65_536

    /// No zones, default policy, no trusted proxy.
    public static let standard = RoutingConfig(policy: .init(), trustedProxies: [], geoipDatabase: nil, zones: try! CoverageZones([]))

    static func parse(routing: TOMLTable?, zones: TOMLValueConvertible?, path: String, base: String) throws(ConfigError) -> RoutingConfig {
        var config = standard
        if let routing {
            var reader = TableReader(table: routing, path: path, location: "routing")
            try reader.allowOnly(["group_radius_km", "load_penalty_km", "overloaded_at", "hysteresis_km", "recovery_seconds",
                                  "trusted_proxies", "geoip_db"])
            func kilometres(_ key: String, _ value: Double) throws(ConfigError) -> Double {
                guard let given = try reader.number(key) else { return value }
                guard (0...20_000).contains(given) else { throw reader.error(key, "must be within 0...20000 km (got \(given))") }
                return given
            }
            config.policy.groupRadiusKm = try kilometres("group_radius_km", config.policy.groupRadiusKm)
            config.policy.loadPenaltyKm = try kilometres("load_penalty_km", config.policy.loadPenaltyKm)
            config.policy.hysteresisKm = try kilometres("hysteresis_km", config.policy.hysteresisKm)
            if let overloaded = try reader.integer("overloaded_at") {
                guard (1...1000).contains(overloaded) else { throw reader.error("overloaded_at", "must be within 1...1000 (got \(overloaded))") }
                config.policy.overloadedAt = UInt16(overloaded)
            }
            if let recovery = try reader.number("recovery_seconds") {
                guard (0...3600).contains(recovery) else { throw reader.error("recovery_seconds", "must be within 0...3600 (got \(recovery))") }
                config.policy.recoverySeconds = recovery
            }
            config.trustedProxies = try networks(reader, "trusted_proxies") ?? []
            config.geoipDatabase = try reader.string("geoip_db").map { NodesConfig.resolve($0, base: base) }
        }
        if let zones {
            guard let array = zones.tomlValue.array else {
                throw ConfigError(file: path, location: "zone", message: "must be an array of tables ([[zone]])")
            }
            guard array.count <= maximumZones else {
                throw ConfigError(file: path, location: "zone", message: "at most \(maximumZones) zones (got \(array.count))")
            }
            var parsed: [CoverageZones.Zone] = []
            for (index, value) in array.enumerated() {
                guard let table = value.table else {
                    throw ConfigError(file: path, location: "zone[\(index)]", message: "must be a table ([[zone]])")
                }
                parsed.append(try zone(TableReader(table: table, path: path, location: "zone[\(index)]")))
            }
            do {
                config.zones = try CoverageZones(parsed)
            } catch {
                throw ConfigError(file: path, location: "zone", message: error.description)
            }
        }
        return config
    }

    private static func zone(_ reader: TableReader) throws(ConfigError) -> CoverageZones.Zone {
        var reader = reader
        try reader.allowOnly(["name", "networks", "latitude", "longitude", "region"])
        let name = try reader.requiredString("name")
        guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != 0x22 && $0 != 0x5c }) else {
            throw reader.error("name", "must be 1-64 printable ASCII characters without spaces, quotes or backslashes (got \"\(name)\")")
        }
        guard let networks = try networks(reader, "networks"), !networks.isEmpty else {
            throw reader.error("networks", "missing: a zone needs at least one network")
        }
        guard networks.count <= maximumNetworksPerZone else {
            throw reader.error("networks", "at most \(maximumNetworksPerZone) networks per zone")
        }
        let latitude = try reader.requiredNumber("latitude"), longitude = try reader.requiredNumber("longitude")
        guard let location = GeoPoint(latitude: latitude, longitude: longitude) else {
            throw reader.error("latitude", "latitude must be within -90...90 and longitude within -180...180 (got \(latitude), \(longitude))")
        }
        let region = try reader.string("region")
        if let region, region.isEmpty || region.utf8.count > 64 { throw reader.error("region", "must be 1-64 bytes") }
        return CoverageZones.Zone(name: name, networks: networks, location: location, region: region)
    }

    private static func networks(_ reader: TableReader, _ key: String) throws(ConfigError) -> [IPNetwork]? {
        guard let texts = try reader.strings(key) else { return nil }
        var networks: [IPNetwork] = []
        for text in texts {
            do {
                networks.append(try IPNetwork(text))
            } catch {
                throw reader.error(key, error.description)
            }
        }
        return networks
    }
}
