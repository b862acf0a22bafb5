import Foundation
import Routing
import Testing
import TestSupport
@testable import EdgeNode

/// Viewers in no coverage zone are placed by a MaxMind-format database built for the test (scripts/make-geoip-db.sh,
/// mmdb-writer from PyPI) and read with libmaxminddb — at city level only, never at a country's centre point.
@Suite struct GeoIPTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func zonesFirstThenCityLevelGeoIPThenTheNode() throws {
        let directory = try TemporaryDirectory("geoip")
        defer { directory.remove() }
        let database = directory.path + "/test.mmdb"
        let made = try ProcessRunner.run(Self.repositoryRoot + "/scripts/make-geoip-db.sh",
                                         [database, "10.9.9.9/32=52.52,13.40,20", "10.8.8.0/24=51.0,9.0,1000", "2001:db8:9::/48=40.42,-3.70,50"],
                                         timeout: 600)
        try #require(made.status == 0, "cannot build the test database: \(made.stderr)")
        let text = """
            [[zone]]
            name = "paris"
            networks = ["10.1.1.0/24", "10.9.9.0/24"]
            latitude = 48.85
            longitude = 2.35

            [[node]]
            name = "origin-1"
            role = "origin"
            region = "eu"
            latitude = 45.76
            longitude = 4.84
            http = "127.0.0.1:1"
            content = "c"
            """
        let config = try NodesConfig.parse(text, path: "t.conf", baseDirectory: directory.path)
        let me = config.nodes[0]
        let router = ViewerRouter(config: config, me: me, state: NodeState(name: me.name, role: .origin), geoip: try GeoIPDatabase(path: database))
        func place(_ address: String) -> ViewerRouter.Placement { router.place(peer: IPAddress(address)!, forwardedFor: []) }
        #expect(place("10.1.1.5").source == "zone:paris")
        #expect(place("10.9.9.9").source == "zone:paris", "a zone wins over the database")
        let unzoned = ViewerRouter(config: try NodesConfig.parse(text.replacingOccurrences(of: "\"10.9.9.0/24\"", with: "\"10.1.2.0/24\""),
                                                                 path: "t.conf", baseDirectory: directory.path),
                                   me: me, state: NodeState(name: me.name, role: .origin), geoip: try GeoIPDatabase(path: database))
        let berlin = unzoned.place(peer: IPAddress("10.9.9.9")!, forwardedFor: [])
        #expect(berlin.source == "geoip" && abs(berlin.location.latitude - 52.52) < 0.01 && abs(berlin.location.longitude - 13.40) < 0.01)
        let madrid = unzoned.place(peer: IPAddress("2001:db8:9::7")!, forwardedFor: [])
        #expect(madrid.source == "geoip" && abs(madrid.location.latitude - 40.42) < 0.01)
        let country = unzoned.place(peer: IPAddress("10.8.8.8")!, forwardedFor: [])
        #expect(country.source == "node:origin-1" && country.location == GeoPoint(latitude: 45.76, longitude: 4.84),
                "a country-level answer is not a place")
        #expect(unzoned.place(peer: IPAddress("10.7.7.7")!, forwardedFor: []).source == "node:origin-1")
    }

    @Test func anUnreadableDatabaseIsAClearError() throws {
        let directory = try TemporaryDirectory("geoip-bad")
        defer { directory.remove() }
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: directory.path + "/bad.mmdb"))
        for path in [directory.path + "/missing.mmdb", directory.path + "/bad.mmdb"] {
            #expect(throws: GeoIPDatabase.OpenError.self) { try GeoIPDatabase(path: path) }
            do {
                _ = try GeoIPDatabase(path: path)
            } catch {
                #expect(error.description.hasPrefix(path + ": cannot open the GeoIP database: "), "\(error)")
            }
        }
    }
}
