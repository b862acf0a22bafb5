/// Where viewers are, by their address: Traffic Router's coverage zone file as `nodes.conf` `[[zone]]` tables. The
/// zone whose network has the longest prefix containing an address is the viewer's zone.
public struct CoverageZones: Sendable {
    /// One zone: networks whose viewers are treated as being at `location`.
    public struct Zone: Sendable, Equatable {
        public let name: String
        public let networks: [IPNetwork]
        public let location: GeoPoint
        public let region: String?

        public init(name: String, networks: [IPNetwork], location: GeoPoint, region: String? = nil) {
            self.name = name
            self.networks = networks
            self.location = location
            self.region = region
        }
    }

    /// Why a set of zones was refused.
    public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
        case duplicateZone(String)
        case networkInTwoZones(network: String, first: String, second: String)

        public var description: String {
            switch self {
            case .duplicateZone(let name): "zone \"\(name)\" is defined twice"
            case .networkInTwoZones(let network, let first, let second): "network \(network) is in zone \"\(first)\" and in zone \"\(second)\""
            }
        }
    }

    public let zones: [Zone]
    /// Per address family, per prefix length (longest first): masked network → zone index.
    private let v4: [(length: Int, networks: [UInt32: Int])]
    private let v6: [(length: Int, networks: [UInt128: Int])]

    public init(_ zones: [Zone]) throws(ConfigurationError) {
        var names: Set<String> = []
        var v4: [Int: [UInt32: Int]] = [:]
        var v6: [Int: [UInt128: Int]] = [:]
        for (index, zone) in zones.enumerated() {
            guard names.insert(zone.name).inserted else { throw .duplicateZone(zone.name) }
            for network in zone.networks {
                let previous: Int?
                switch network.address {
                case .v4(let value):
                    previous = v4[network.prefixLength]?[value]
                    v4[network.prefixLength, default: [:]][value] = index
                case .v6(let value):
                    previous = v6[network.prefixLength]?[value]
                    v6[network.prefixLength, default: [:]][value] = index
                }
                if let previous {
                    throw .networkInTwoZones(network: network.description, first: zones[previous].name, second: zone.name)
                }
            }
        }
        self.zones = zones
        self.v4 = v4.sorted { $0.key > $1.key }.map { ($0.key, $0.value) }
        self.v6 = v6.sorted { $0.key > $1.key }.map { ($0.key, $0.value) }
    }

    /// The zone of `address` by longest-prefix match, or nil when no zone covers it. At most one dictionary lookup per
    /// distinct prefix length in use.
    public func zone(of address: IPAddress) -> Zone? {
        switch address {
        case .v4:
            for (length, networks) in v4 {
                guard case .v4(let masked) = address.masked(to: length) else { continue }
                if let index = networks[masked] { return zones[index] }
            }
        case .v6:
            for (length, networks) in v6 {
                guard case .v6(let masked) = address.masked(to: length) else { continue }
                if let index = networks[masked] { return zones[index] }
            }
        }
        return nil
    }
}
