import Foundation
import Gossip
import HTTPSemantics
import Logging
import Manifest
import NIOCore
import NIOEmbedded
import Routing
import Testing
@testable import EdgeNode

/// Emergency broadcast mode in routing, without sockets: only mesh and satellite nodes are candidates while the flag
/// is on, normal routing (flagged degraded) when none of them is healthy, normal routing again once it is off; and
/// `POST /fleet/emergency` refuses every bad flag with its own status before anything reaches gossip.
@Suite struct EmergencyRoutingTests {
    static let operatorKey = try! NoteSigner.generate(name: "operator-alice")
    static let check = EmergencyFlagCheck(fleet: "demo", operatorKeys: [operatorKey.verifier], maximumSkewSeconds: 300)

    static let config = try! NodesConfig.parse("""
        [fleet]
        name = "demo"

        [[node]]
        name = "origin-1"
        role = "origin"
        region = "eu"
        latitude = 48.85
        longitude = 2.35
        http = "127.0.0.1:1"
        content = "c"

        [[node]]
        name = "edge-paris"
        role = "edge"
        region = "eu"
        latitude = 48.86
        longitude = 2.34
        http = "127.0.0.2:1"
        content = "c"
        parents = ["origin-1"]
        origin_key = "k.pub"

        [[node]]
        name = "mesh-lyon"
        role = "mesh"
        region = "eu"
        latitude = 45.76
        longitude = 4.83
        http = "127.0.0.4:1"
        content = "c"
        parents = ["origin-1"]
        origin_key = "k.pub"

        [[node]]
        name = "sat-atlantic"
        role = "satellite"
        region = "global"
        latitude = 0
        longitude = -30
        http = "127.0.0.6:1"
        content = "c"
        parents = ["origin-1"]
        origin_key = "k.pub"
        """, path: "t.conf", baseDirectory: "/tmp")

    static func record(epoch: UInt64, on: Bool, issuedAt: Int64 = Int64(Date().timeIntervalSince1970)) throws -> ClusterRecord {
        let flag = try EmergencyFlag(fleet: "demo", epoch: epoch, on: on, issuedAt: issuedAt, reason: "hosting cut off")
        return EmergencyRecord.record(flag, note: try flag.signed(by: operatorKey))
    }

    static func view(_ records: [ClusterRecord], dead: Set<String> = []) -> ClusterView {
        let members = config.nodes.map { node in
            Gossip.Member(info: NodeRuntime.memberInfo(node, gossip: SocketAddressSpec(host: "127.0.0.1", port: 1)), incarnation: 1,
                          status: dead.contains(node.name) ? .dead : .alive, health: NodeHealth(), changedAt: 0)
        }
        return ClusterView(node: "edge-paris", localHealthMultiplier: 0, members: members,
                           records: Dictionary(uniqueKeysWithValues: records.map { ($0.key, $0) }))
    }

    @Test func onlyMeshAndSatelliteServeViewersWhileTheFlagIsOn() throws {
        let me = try Self.config.node(named: "edge-paris")
        let router = ViewerRouter(config: Self.config, me: me, state: NodeState(name: me.name, role: .edge))
        let parisViewer = router.place(peer: IPAddress("10.1.1.1")!, forwardedFor: [])
        let now: UInt64 = 100_000_000_000

        let normal = router.decide(parisViewer, contentID: "clip", view: Self.view([]), now: now)
        #expect(normal.decision.candidates.first?.name == "edge-paris" && !normal.emergency && !normal.degraded)

        let on = Self.view([try Self.record(epoch: 1, on: true)])
        #expect(on.emergencyOn && on.emergency?.signers == ["operator-alice"])
        let emergency = router.decide(parisViewer, contentID: "clip", view: on, now: now)
        #expect(emergency.decision.candidates.map(\.name) == ["mesh-lyon", "sat-atlantic"], "nearest first, no origin or edge")
        #expect(Set(emergency.decision.excluded.map(\.name)) == ["origin-1", "edge-paris"])
        #expect(emergency.emergency && !emergency.degraded)

        let noMesh = Self.view([try Self.record(epoch: 1, on: true)], dead: ["mesh-lyon", "sat-atlantic"])
        let degraded = router.decide(parisViewer, contentID: "clip", view: noMesh, now: now)
        #expect(degraded.degraded && degraded.decision.candidates.first?.name == "edge-paris",
                "no mesh or satellite node is healthy: viewers are still served, not black-holed")

        let off = Self.view([try Self.record(epoch: 2, on: false)])
        #expect(!off.emergencyOn)
        let restored = router.decide(parisViewer, contentID: "clip", view: off, now: now)
        #expect(restored.decision.candidates.first?.name == "edge-paris" && !restored.emergency)
    }

    static func post(_ endpoint: EmergencyEndpoint, _ body: [UInt8], declared: Int? = nil) throws -> ResponsePlan {
        let loop = EmbeddedEventLoop()
        let future = endpoint.accept(body: ByteBuffer(bytes: body), bodyBytes: declared ?? body.count, peer: nil, on: loop)
        loop.run()
        return try future.wait()
    }

    static func text(_ plan: ResponsePlan) -> String {
        if case .text(let text) = plan.body { text } else { "" }
    }

    @Test func everyBadFlagIsRefusedWithItsOwnStatus() throws {
        let state = NodeState(name: "edge-paris", role: .edge)
        let endpoint = EmergencyEndpoint(state: state, fleet: LiveFleet(.init(fleetHosts: [], emergencyCheck: Self.check)), metrics: EmergencyMetrics(logger: Logger(label: "t")),
                                         logger: Logger(label: "t"))
        let now = Int64(Date().timeIntervalSince1970)
        let good = try Self.record(epoch: 3, on: true).value
        let stranger = try NoteSigner.generate(name: "operator-alice")
        let tampered = Array(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "hosting cut off", with: "hosting cut offf").utf8)
        let flag = try EmergencyFlag(fleet: "demo", epoch: 3, on: true, issuedAt: now, reason: "r")
        let cases: [(body: [UInt8], declared: Int?, status: Int, says: String)] = [
            (good, 600, 413, "larger than 512"),
            (Array("not a note".utf8), nil, 400, "malformed"),
            (Array(try flag.signed(by: try NoteSigner.generate(name: "mallory")).rendered.utf8), nil, 403, "not signed by any operator key"),
            (Array(try flag.signed(by: stranger).rendered.utf8), nil, 403, "not signed by any operator key"),
            (tampered, nil, 403, "does not verify"),
            (Array(try EmergencyFlag(fleet: "other", epoch: 3, on: true, issuedAt: now, reason: "r").signed(by: Self.operatorKey).rendered.utf8),
             nil, 403, "fleet \"other\""),
            (try Self.record(epoch: 3, on: true, issuedAt: now - 3_600).value, nil, 422, "beyond the allowed skew"),
            (try Self.record(epoch: 3, on: true, issuedAt: now + 3_600).value, nil, 422, "beyond the allowed skew"),
            (good, nil, 503, "does not gossip"),
        ]
        for item in cases {
            let plan = try Self.post(endpoint, item.body, declared: item.declared)
            #expect(plan.status == item.status && Self.text(plan).contains(item.says), "\(item.status) \(Self.text(plan))")
        }
        let unkeyed = EmergencyEndpoint(state: state, fleet: LiveFleet(.init(fleetHosts: [], emergencyCheck: EmergencyFlagCheck(fleet: "demo", operatorKeys: []))),
                                        metrics: EmergencyMetrics(logger: Logger(label: "t")), logger: Logger(label: "t"))
        let refused = try Self.post(unkeyed, good)
        #expect(refused.status == 403 && Self.text(refused).contains("no operator_keys"))
    }
}
