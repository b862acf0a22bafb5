import Foundation
import Testing
@testable import EdgeNode

/// What a reload puts in force at once and what waits for a restart.
@Suite struct ConfigChangesTests {
    static let base = """
        [fleet]
        name = "demo"
        operator_keys = []

        [[zone]]
        name = "paris"
        networks = ["10.1.0.0/16"]
        latitude = 48.85
        longitude = 2.35

        [[node]]
        name = "origin-1"
        role = "origin"
        region = "eu"
        latitude = 48.85
        longitude = 2.35
        http = "127.0.0.1:8080"
        content = "content"

        [[node]]
        name = "edge-1"
        role = "edge"
        region = "eu"
        latitude = 48.85
        longitude = 2.35
        http = "127.0.0.2:8080"
        content = "cache"
        parents = ["origin-1"]
        origin_key = "origin.pub"
        cache_size = "2GiB"
        """

    static func changes(_ edit: (String) -> String) throws -> ConfigChanges {
        let old = try NodesConfig.parse(base, path: "t.conf", baseDirectory: "/srv")
        let new = try NodesConfig.parse(edit(base), path: "t.conf", baseDirectory: "/srv")
        return ConfigChanges(from: old, to: new, node: "edge-1")
    }

    @Test func theSameFileChangesNothing() throws {
        #expect(try Self.changes { $0 }.isEmpty)
    }

    @Test(arguments: [
        ("parents = [\"origin-1\"]", "parents = [\"origin-2\", \"origin-1\"]", "parents"),
        ("cache_size = \"2GiB\"", "cache_size = \"1GiB\"", "cache_size"),
        ("cache_size = \"2GiB\"", "cache_size = \"2GiB\"\nlog_level = \"debug\"", "log_level"),
        ("networks = [\"10.1.0.0/16\"]", "networks = [\"10.2.0.0/16\"]", "zones"),
    ])
    func ownSettingsTakeEffectLive(from: String, to: String, key: String) throws {
        let extra = "\n\n[[node]]\nname = \"origin-2\"\nrole = \"origin\"\nregion = \"eu\"\nlatitude = 1\nlongitude = 1\nhttp = \"127.0.0.3:8080\"\ncontent = \"content\""
        let old = try NodesConfig.parse(Self.base + extra, path: "t.conf", baseDirectory: "/srv")
        let new = try NodesConfig.parse((Self.base + extra).replacingOccurrences(of: from, with: to), path: "t.conf", baseDirectory: "/srv")
        let changes = ConfigChanges(from: old, to: new, node: "edge-1")
        #expect(changes.applied == [key] && changes.needRestart.isEmpty, "\(changes)")
    }

    @Test func anotherNodeAddedOrRemovedIsAFleetChange() throws {
        let added = try Self.changes { $0 + "\n\n[[node]]\nname = \"mesh-1\"\nrole = \"mesh\"\nregion = \"eu\"\nlatitude = 1\nlongitude = 1\nhttp = \"127.0.0.4:8080\"\ncontent = \"m\"\nparents = [\"origin-1\"]\norigin_key = \"origin.pub\"" }
        #expect(added.applied == ["nodes"] && added.needRestart.isEmpty)
        let moved = try Self.changes { $0.replacingOccurrences(of: "http = \"127.0.0.1:8080\"", with: "http = \"127.0.0.9:8080\"") }
        #expect(moved.applied == ["nodes"], "the origin's address is another node's entry")
    }

    @Test func newCertificateFilesAreLiveANewHTTPSAddressWaits() throws {
        let tls = "\nhttps = \"127.0.0.2:8443\"\ntls_cert = \"a.pem\"\ntls_key = \"a.key\""
        let old = try NodesConfig.parse(Self.base + tls, path: "t.conf", baseDirectory: "/srv")
        let renamed = try NodesConfig.parse(Self.base + tls.replacingOccurrences(of: "a.pem", with: "b.pem"), path: "t.conf", baseDirectory: "/srv")
        #expect(ConfigChanges(from: old, to: renamed, node: "edge-1").applied == ["tls_cert"])
        let moved = try NodesConfig.parse(Self.base + tls.replacingOccurrences(of: "8443", with: "9443"), path: "t.conf", baseDirectory: "/srv")
        #expect(ConfigChanges(from: old, to: moved, node: "edge-1").needRestart == ["https"])
        let added = ConfigChanges(from: try NodesConfig.parse(Self.base, path: "t.conf", baseDirectory: "/srv"), to: old, node: "edge-1")
        #expect(added.applied.isEmpty && Set(added.needRestart) == ["https", "tls_cert"], "a first https listener needs a restart")
        let removed = ConfigChanges(from: old, to: try NodesConfig.parse(Self.base, path: "t.conf", baseDirectory: "/srv"), node: "edge-1")
        #expect(removed.applied.isEmpty && Set(removed.needRestart) == ["https", "tls_cert"], "dropping TLS needs a restart too")
    }

    @Test func addressesDirectoriesAndKeysWaitForARestart() throws {
        let changes = try Self.changes {
            $0.replacingOccurrences(of: "http = \"127.0.0.2:8080\"", with: "http = \"127.0.0.2:8081\"")
                .replacingOccurrences(of: "content = \"cache\"", with: "content = \"cache2\"\nthreads = 2\nprefetch = 4")
        }
        #expect(changes.applied == ["nodes"], "the node's own default URL follows its address, and routing uses it at once")
        #expect(Set(changes.needRestart) == ["http", "content", "threads", "prefetch"], "\(changes.needRestart)")
    }
}
