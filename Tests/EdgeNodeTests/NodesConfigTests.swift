import Foundation
import Testing
@testable import EdgeNode

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
        ("[fleet]\nname = 3\n" + minimal, "fleet.name", "must be a string"),
        // toml++ would abort the process on these (an assertion); they get an error like any other syntax mistake.
        ("[,fleet]\n" + minimal, "test.conf: line 1, column 2", "a table name must start with"),
        (minimal + "\n  [[ .node]]", "test.conf: line 9, column 6", "a table name must start with"),
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
