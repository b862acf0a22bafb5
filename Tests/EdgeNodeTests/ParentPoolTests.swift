import Logging
import Testing
@testable import EdgeNode

/// A reload's new parent list: a parent at the same address keeps its record, a moved one starts healthy.
@Suite struct ParentPoolTests {
    static func parent(_ name: String, _ host: String) -> ParentAddress {
        ParentAddress(name: name, address: SocketAddressSpec(host: host, port: 8080), isPeer: false)
    }

    @Test func aReloadKeepsTheRecordOfAnUnchangedParent() {
        let (origin, mesh) = (Self.parent("origin-1", "127.0.0.1"), Self.parent("mesh-1", "127.0.0.2"))
        let pool = ParentPool(parents: [origin, mesh], identity: FleetIdentity(node: "edge-1"), metrics: EdgeMetrics(parents: ["origin-1", "mesh-1"]), logger: Logger(label: "test"))
        pool.failed(origin, path: "/a/seg.ts", reason: "timeout", detail: "test")
        #expect(pool.order().map(\.name) == ["mesh-1", "origin-1"])
        pool.replace(parents: [origin, mesh])
        #expect(pool.order().map(\.name) == ["mesh-1", "origin-1"], "the same list again (a reload re-reading the CA): still failing")
        pool.replace(parents: [Self.parent("origin-1", "127.0.0.9"), mesh])
        #expect(pool.order().map(\.name) == ["origin-1", "mesh-1"], "moved to another address: starts healthy")
        let moved = Self.parent("origin-1", "127.0.0.9")
        pool.failed(moved, path: "/a/seg.ts", reason: "tls", detail: "test")
        pool.replace(parents: [moved, mesh])
        #expect(pool.order().map(\.name) == ["mesh-1", "origin-1"])
        pool.replace(parents: [moved, mesh], forgiving: true)
        #expect(pool.order().map(\.name) == ["origin-1", "mesh-1"], "another fleet CA: every parent starts healthy")
    }
}
