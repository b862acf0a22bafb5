import Testing
@testable import Routing

@Suite struct GeoPointTests {
    @Test func haversineDistances() throws {
        let paris = try #require(GeoPoint(latitude: 48.8566, longitude: 2.3522))
        let london = try #require(GeoPoint(latitude: 51.5074, longitude: -0.1278))
        let sydney = try #require(GeoPoint(latitude: -33.8688, longitude: 151.2093))
        #expect(abs(paris.distanceKm(to: london) - 343.6) < 1)
        #expect(abs(paris.distanceKm(to: sydney) - 16_960) < 20)
        #expect(paris.distanceKm(to: paris) == 0)
        #expect(abs(paris.distanceKm(to: london) - london.distanceKm(to: paris)) < 1e-9)
        let antipode = try #require(GeoPoint(latitude: -48.8566, longitude: -177.6478))
        #expect(abs(paris.distanceKm(to: antipode) - Double.pi * GeoPoint.earthRadiusKm) < 1)
    }

    @Test func outOfRangeCoordinatesAreRefused() {
        #expect(GeoPoint(latitude: 90.0001, longitude: 0) == nil)
        #expect(GeoPoint(latitude: 0, longitude: -180.5) == nil)
        #expect(GeoPoint(latitude: .nan, longitude: 0) == nil)
        #expect(GeoPoint(latitude: 0, longitude: .infinity) == nil)
        #expect(GeoPoint(latitude: -90, longitude: 180) != nil)
    }
}

@Suite struct IPNetworkTests {
    @Test func parsesAddressesAndBlocks() throws {
        #expect(IPAddress("192.0.2.7") == .v4(0xc000_0207))
        #expect(IPAddress("::ffff:192.0.2.7") == .v4(0xc000_0207), "IPv4-mapped IPv6 is IPv4")
        #expect(IPAddress("2001:db8::1") == .v6(UInt128(0x2001_0db8) << 96 | 1))
        #expect(IPAddress("2001:db8::1")?.description == "2001:db8::1")
        #expect(IPAddress("10.1.2.3")?.description == "10.1.2.3")
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "::g", "1.2.3.4 ", "[::1]", "fe80::1%eth0", String(repeating: "1", count: 100)] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
        let network = try IPNetwork("203.0.113.0/24")
        #expect(network.contains(IPAddress("203.0.113.255")!))
        #expect(!network.contains(IPAddress("203.0.114.0")!))
        #expect(!network.contains(IPAddress("2001:db8::1")!), "families never match")
        #expect(try IPNetwork("2001:db8::/32").contains(IPAddress("2001:db8:ffff::1")!))
        #expect(try IPNetwork("0.0.0.0/0").contains(IPAddress("8.8.8.8")!))
        #expect(try IPNetwork("127.0.0.9").prefixLength == 32)
        #expect(try IPNetwork("::1").prefixLength == 128)
    }

    @Test func badBlocksAreRefusedWithTheReason() {
        #expect(throws: IPNetwork.ParseError.hostBitsSet("203.0.113.1/24")) { try IPNetwork("203.0.113.1/24") }
        for bad in ["203.0.113.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "/8", "x/8", "10.0.0.0/0008"] {
            #expect(throws: IPNetwork.ParseError.notCIDR(bad)) { try IPNetwork(bad) }
        }
    }
}

@Suite struct CoverageZonesTests {
    static func zone(_ name: String, _ networks: [String], latitude: Double = 0, longitude: Double = 0) throws -> CoverageZones.Zone {
        CoverageZones.Zone(name: name, networks: try networks.map { try IPNetwork($0) }, location: GeoPoint(latitude: latitude, longitude: longitude)!)
    }

    @Test func longestPrefixWins() throws {
        let zones = try CoverageZones([
            try Self.zone("everywhere", ["0.0.0.0/0", "::/0"]),
            try Self.zone("paris", ["10.0.0.0/8", "2001:db8::/32"]),
            try Self.zone("paris-11", ["10.11.0.0/16", "2001:db8:11::/48"]),
            try Self.zone("one-host", ["10.11.0.7/32"]),
        ])
        #expect(zones.zone(of: IPAddress("10.11.0.7")!)?.name == "one-host")
        #expect(zones.zone(of: IPAddress("10.11.0.8")!)?.name == "paris-11")
        #expect(zones.zone(of: IPAddress("10.12.0.8")!)?.name == "paris")
        #expect(zones.zone(of: IPAddress("11.0.0.1")!)?.name == "everywhere")
        #expect(zones.zone(of: IPAddress("2001:db8:11::5")!)?.name == "paris-11")
        #expect(zones.zone(of: IPAddress("2001:db8:12::5")!)?.name == "paris")
        #expect(zones.zone(of: IPAddress("2001:db9::1")!)?.name == "everywhere")
        #expect(try CoverageZones([try Self.zone("v4", ["10.0.0.0/8"])]).zone(of: IPAddress("2001:db8::1")!) == nil)
    }

    @Test func conflictingZonesAreRefused() throws {
        #expect(throws: CoverageZones.ConfigurationError.duplicateZone("a")) {
            try CoverageZones([try Self.zone("a", ["10.0.0.0/8"]), try Self.zone("a", ["11.0.0.0/8"])])
        }
        #expect(throws: CoverageZones.ConfigurationError.networkInTwoZones(network: "10.0.0.0/8", first: "a", second: "b")) {
            try CoverageZones([try Self.zone("a", ["10.0.0.0/8"]), try Self.zone("b", ["10.0.0.0/8"])])
        }
    }

    /// Against a brute-force longest-prefix match over random blocks and addresses.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func matchesBruteForce(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        var seen: Set<IPNetwork> = []
        var zones: [CoverageZones.Zone] = []
        for index in 0..<300 {
            let length = Int.random(in: 4...32, using: &generator)
            // Few distinct high bits, so that blocks nest.
            let value = UInt32.random(in: 0...UInt32.max, using: &generator) & 0x0f0f_ffff
            guard case .v4(let masked) = IPAddress.v4(value).masked(to: length) else { continue }
            let network = try IPNetwork("\(IPAddress.v4(masked))/\(length)")
            guard seen.insert(network).inserted else { continue }
            zones.append(CoverageZones.Zone(name: "z\(index)", networks: [network], location: GeoPoint(latitude: 0, longitude: 0)!))
        }
        let coverage = try CoverageZones(zones)
        for _ in 0..<3_000 {
            let address = IPAddress.v4(UInt32.random(in: 0...UInt32.max, using: &generator) & 0x0f0f_ffff)
            let expected = zones.filter { $0.networks[0].contains(address) }.max { $0.networks[0].prefixLength < $1.networks[0].prefixLength }
            #expect(coverage.zone(of: address)?.name == expected?.name, "\(address)")
        }
    }
}

@Suite struct ViewerAddressTests {
    static let proxies = [try! IPNetwork("10.0.0.0/8"), try! IPNetwork("2001:db8:ffff::/48")]

    static func resolve(_ peer: String, _ fields: [String]) -> String {
        ViewerAddress.resolve(peer: IPAddress(peer)!, forwardedFor: fields.map { $0[...] }, trustedProxies: proxies).description
    }

    @Test func forwardedForIsHonouredOnlyFromTrustedProxies() {
        #expect(Self.resolve("198.51.100.9", ["203.0.113.5"]) == "198.51.100.9", "a viewer cannot claim another address")
        #expect(Self.resolve("10.0.0.2", ["203.0.113.5"]) == "203.0.113.5")
        #expect(Self.resolve("10.0.0.2", ["192.0.2.1, 203.0.113.5, 10.0.0.3"]) == "203.0.113.5", "rightmost untrusted hop")
        #expect(Self.resolve("10.0.0.2", ["192.0.2.1", "203.0.113.5"]) == "203.0.113.5", "several fields are one list")
        #expect(Self.resolve("10.0.0.2", ["10.0.0.4, 10.0.0.3"]) == "10.0.0.4", "only proxies: the farthest one")
        #expect(Self.resolve("10.0.0.2", ["192.0.2.1, garbage, 10.0.0.3"]) == "10.0.0.3", "garbage stops at the last trusted hop")
        #expect(Self.resolve("10.0.0.2", []) == "10.0.0.2")
        #expect(Self.resolve("2001:db8:ffff::1", [" 2001:db8:1::9 "]) == "2001:db8:1::9")
    }
}
