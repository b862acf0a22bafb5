import Foundation
import Gossip
import HTTPSemantics
import Logging
import Manifest
import NIOCore
import NIOHTTP1
import Prometheus
import Routing
import Testing
import TestSupport
@testable import EdgeNode

/// Viewers placed by coverage zone are sent to the nearest healthy edge: playlists get a 302 (once), segments are
/// served where they are asked for, `/route/{content}` explains the choice, and a dead edge stops being chosen.
@Suite(.serialized) struct ViewerRoutingTests {
    /// An origin in Paris, edges in Paris and Berlin, and a coverage zone around each edge's viewer address.
    static func fleet(fixture: PublishedContent.Fixture, directory: TemporaryDirectory, origin: String, paris: String, berlin: String,
                      parisViewer: String, berlinViewer: String) throws -> NodesConfig {
        let keyring = directory.path + "/gossip.keyring"
        try KeyringFile.save(Keyring(primary: KeyringFile.generateKey()), to: keyring, replace: false)
        func edge(_ name: String, _ host: String, _ latitude: Double, _ longitude: Double) -> String {
            """
            [[node]]
            name = "\(name)"
            role = "edge"
            region = "eu"
            latitude = \(latitude)
            longitude = \(longitude)
            http = "\(host):18500"
            gossip = "\(host):17500"
            content = "\(directory.path)/\(name)"
            parents = ["origin-1"]
            origin_key = "\(fixture.pubkey)"
            threads = 1
            prefetch = 0
            """
        }
        let text = """
            [fleet]
            name = "routing"
            gossip_keyring = "\(keyring)"

            [routing]
            recovery_seconds = 0

            [[zone]]
            name = "paris"
            networks = ["\(parisViewer)/32"]
            latitude = 48.85
            longitude = 2.35

            [[zone]]
            name = "berlin"
            networks = ["\(berlinViewer)/32"]
            latitude = 52.52
            longitude = 13.40

            [[node]]
            name = "origin-1"
            role = "origin"
            region = "eu"
            latitude = 48.85
            longitude = 2.35
            http = "\(origin):18500"
            gossip = "\(origin):17500"
            content = "\(fixture.root)"
            threads = 1

            \(edge("edge-paris", paris, 48.86, 2.34))

            \(edge("edge-berlin", berlin, 52.52, 13.40))
            """
        let config = try NodesConfig.parse(text, path: directory.path + "/nodes.conf", baseDirectory: directory.path)
        return config
    }

    @Test func playlistsAreRedirectedToTheNearestHealthyEdge() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let directory = try TemporaryDirectory("routing")
        defer { directory.remove() }
        let origin = LoopbackAddress.next(), paris = LoopbackAddress.next(), berlin = LoopbackAddress.next()
        let parisViewer = LoopbackAddress.next(), berlinViewer = LoopbackAddress.next(), elsewhere = LoopbackAddress.next()
        let config = try Self.fleet(fixture: fixture, directory: directory, origin: origin, paris: paris, berlin: berlin,
                                    parisViewer: parisViewer, berlinViewer: berlinViewer)
        let logger = Logger(label: "routing-test")
        let runtimes = try ["origin-1", "edge-paris", "edge-berlin"].map { try NodeRuntime(config: config, node: $0, logger: logger) }
        let tasks = runtimes.map { runtime in Task(executorPreference: DispatchTaskExecutor.shared) { try await runtime.run() } }
        defer { for task in tasks { task.cancel() } }
        #expect(await NodeRuntimeTests.eventually(20) {
            runtimes.allSatisfy { runtime in runtime.state.cluster.map { $0.members.count == 3 && $0.members.allSatisfy { $0.status == .alive } } == true }
        }, "every node sees all three alive")
        let listening = await NodeRuntimeTests.eventually(10) {
            NodeRuntimeTests.listening(paris, 18500) && NodeRuntimeTests.listening(berlin, 18500)
        }
        #expect(listening, "and listens (once it has merged a seed's state)")

        let master = "/content-ts/master.m3u8"
        let redirected = try RawHTTPConnection.get(paris, 18500, master, source: berlinViewer)
        #expect(redirected.status == 302)
        #expect(redirected.header("Location") == "http://\(berlin):18500\(master)?edgenode_routed=1")
        #expect(redirected.header("Cache-Control") == "no-store")
        let followed = try RawHTTPConnection.get(berlin, 18500, master + "?edgenode_routed=1", source: parisViewer)
        #expect(followed.status == 200, "a redirected request is never redirected again")
        #expect(try RawHTTPConnection.get(paris, 18500, master, source: parisViewer).status == 200, "the nearest node serves")
        #expect(try RawHTTPConnection.get(berlin, 18500, master, source: parisViewer).header("Location")?.hasPrefix("http://\(paris):18500/") == true)
        let media = "/content-ts/360p/index.m3u8"
        #expect(try RawHTTPConnection.get(paris, 18500, media + "?token=x", source: berlinViewer).header("Location")
                == "http://\(berlin):18500\(media)?token=x&edgenode_routed=1", "media playlists too, query kept")
        let segment = try FileManager.default.contentsOfDirectory(atPath: fixture.root + "/content-ts/360p").filter { $0.hasPrefix("seg_") }.sorted()[0]
        #expect(try RawHTTPConnection.get(paris, 18500, "/content-ts/360p/" + segment, source: berlinViewer).status == 200,
                "segments are served where they are asked for")
        #expect(try RawHTTPConnection.get(paris, 18500, master, headers: ["X-Forwarded-For: \(berlinViewer)"], source: parisViewer).status == 200,
                "X-Forwarded-For from a peer that is not a trusted proxy is ignored")
        // Issue 24 (8): a viewer cannot pass for a fleet node, neither with `Via` nor with a made-up proof.
        let now = Int(Date().timeIntervalSince1970)
        for forged in ["Via: 1.1 edge-berlin", "Via: 1.1 origin-1, 1.1 edge-paris", "Edgenode-Fleet: v1 edge-berlin \(now) AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                       "Edgenode-Fleet: v1 edge-berlin 99999999999999999999 x", "Edgenode-Fleet: v1 edge-berlin -9223372036854775808 x"] {
            #expect(try RawHTTPConnection.get(paris, 18500, master, headers: [forged], source: berlinViewer).status == 302, "\(forged)")
        }
        // Issue 24 (6): an absolute-form target is redirected by its path; its host is never echoed.
        let absolute = try RawHTTPConnection(host: paris, port: 18500, source: berlinViewer)
        try absolute.send("GET http://other.example\(master) HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n")
        let absoluteAnswer = try #require(try absolute.readResponse())
        #expect(absoluteAnswer.status == 302 && absoluteAnswer.header("Location") == "http://\(berlin):18500\(master)?edgenode_routed=1",
                "\(absoluteAnswer.header("Location") ?? "no Location")")
        // A viewer in no zone is placed at the node it asked.
        #expect(try RawHTTPConnection.get(berlin, 18500, master, source: elsewhere).status == 200)

        let route = try RawHTTPConnection.get(paris, 18500, "/route/content-ts", source: berlinViewer)
        #expect(route.status == 200 && route.header("Content-Type") == "application/json")
        let answer = try JSONDecoder().decode(RouteAnswer.self, from: Data(route.body))
        #expect(answer.viewer.source == "zone:berlin" && answer.viewer.address == berlinViewer && answer.node == "edge-paris")
        #expect(answer.candidates.map(\.name) == ["edge-berlin", "edge-paris", "origin-1"])
        #expect(answer.candidates.map(\.tier) == [0, 0, 1] && abs(answer.candidates[1].distanceKm - 877) < 10)
        #expect(try RawHTTPConnection.get(paris, 18500, "/route/..", source: berlinViewer).status == 404)

        // Content steering: the steered playlist follows the specification's rules; a player model follows the
        // steering manifest to the node it prefers.
        let steeredResponse = try RawHTTPConnection.get(paris, 18500, "/content-ts/steered.m3u8", source: berlinViewer)
        #expect(steeredResponse.status == 200 && steeredResponse.header("Content-Type") == "application/vnd.apple.mpegurl")
        let steered = try MasterPlaylist.parse(String(decoding: steeredResponse.body, as: UTF8.self))
        #expect(steered.violations().isEmpty, "\(steered.violations())")
        #expect(steered.contentSteering?.serverURI == "http://\(paris):18500/steering/content-ts")
        #expect(Set(steered.variants.compactMap(\.pathwayID)) == ["origin-1", "edge-paris", "edge-berlin"])
        // Issue 24 (9): a player starts on the policy's first choice for it, not on the first node of nodes.conf.
        #expect(steered.contentSteering?.pathwayID == "edge-berlin" && steered.variants.first?.pathwayID == "edge-berlin")
        let parisSteered = try MasterPlaylist.parse(String(decoding: try RawHTTPConnection.get(berlin, 18500, "/content-ts/steered.m3u8",
                                                                                                 source: parisViewer).body, as: UTF8.self))
        #expect(parisSteered.contentSteering?.pathwayID == "edge-paris" && parisSteered.variants.first?.pathwayID == "edge-paris")
        let fromOrigin = try RawHTTPConnection.get(origin, 18500, "/content-ts/steered.m3u8", source: parisViewer)
        let originPlaylist = try MasterPlaylist.parse(String(decoding: fromOrigin.body, as: UTF8.self))
        #expect(fromOrigin.status == 200 && originPlaylist.violations().isEmpty)
        #expect(try RawHTTPConnection.get(paris, 18500, "/unknown/steered.m3u8", source: berlinViewer).status == 404)
        let player = SteeringPlayer(playlist: steered, steeringHost: paris, port: 18500, viewer: berlinViewer)
        #expect(try player.reload() == "edge-berlin")
        #expect(try player.fetchVariant(host: berlin) == 200)

        // Berlin goes away: once gossip says so, its viewers are served by the next nearest.
        tasks[2].cancel()
        _ = await tasks[2].result
        #expect(await NodeRuntimeTests.eventually(15) { runtimes[1].state.isDown("edge-berlin") })
        #expect(try RawHTTPConnection.get(paris, 18500, master, source: berlinViewer).status == 200)
        #expect(try player.reload() == "edge-paris", "the steering manifest now prefers the next node")
        #expect(try player.fetchVariant(host: paris) == 200, "and the player plays on from it")
        let after = try JSONDecoder().decode(RouteAnswer.self, from: Data(try RawHTTPConnection.get(paris, 18500, "/route/content-ts",
                                                                                                      source: berlinViewer).body))
        #expect(after.candidates.first?.name == "edge-paris")
        #expect(after.excluded.map(\.name) == ["edge-berlin"])
    }

    /// Alive means serving (issue 24): Berlin's data-plane event loops stop running tasks while its gossip loop goes on
    /// announcing it alive. Within seconds gossip carries "not serving", Paris stops redirecting Berlin's viewers
    /// there, and Berlin's `/healthz` fails; when the loops run again, Berlin is routed to again.
    @Test func aNodeWhoseDataPlaneStallsStopsBeingRouted() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let directory = try TemporaryDirectory("stall")
        defer { directory.remove() }
        let origin = LoopbackAddress.next(), paris = LoopbackAddress.next(), berlin = LoopbackAddress.next()
        let parisViewer = LoopbackAddress.next(), berlinViewer = LoopbackAddress.next()
        let config = try Self.fleet(fixture: fixture, directory: directory, origin: origin, paris: paris, berlin: berlin,
                                    parisViewer: parisViewer, berlinViewer: berlinViewer)
        let logger = Logger(label: "stall-test")
        let runtimes = try ["origin-1", "edge-paris", "edge-berlin"].map { try NodeRuntime(config: config, node: $0, logger: logger) }
        let tasks = runtimes.map { runtime in Task(executorPreference: DispatchTaskExecutor.shared) { try await runtime.run() } }
        let stall = DispatchSemaphore(value: 0)
        let loops = runtimes[2].server.eventLoops
        var released = false
        defer {
            if !released { for _ in loops { stall.signal() } }
            for task in tasks { task.cancel() }
        }
        #expect(await NodeRuntimeTests.eventually(20) {
            runtimes.allSatisfy { runtime in runtime.state.cluster.map { $0.members.count == 3 && $0.members.allSatisfy { $0.status == .alive } } == true }
        })
        #expect(await NodeRuntimeTests.eventually(10) { NodeRuntimeTests.listening(paris, 18500) && NodeRuntimeTests.listening(berlin, 18500) })
        let master = "/content-ts/master.m3u8"
        #expect(try RawHTTPConnection.get(paris, 18500, master, source: berlinViewer).header("Location")?.contains(berlin) == true,
                "Berlin's viewers go to Berlin while it serves")

        for loop in loops { loop.execute { stall.wait() } }
        let stalledAt = Date()
        let moved = await NodeRuntimeTests.eventually(15) {
            (try? RawHTTPConnection.get(paris, 18500, master, source: berlinViewer).status) == 200
        }
        let elapsed = Date().timeIntervalSince(stalledAt)
        #expect(moved && elapsed < 10, "Paris serves Berlin's viewers itself \(elapsed) s after Berlin's data plane stalled")
        #expect(!runtimes[2].state.servesViewers)
        #expect(runtimes[1].state.cluster?.members.first { $0.name == "edge-berlin" }?.status == .alive,
                "gossip still finds Berlin alive: it is the serving flag that moved the viewers")
        let route = try JSONDecoder().decode(RouteAnswer.self, from: Data(try RawHTTPConnection.get(paris, 18500, "/route/content-ts",
                                                                                                      source: berlinViewer).body))
        #expect(route.excluded.contains { $0.name == "edge-berlin" && $0.reason == "draining" }, "\(route.excluded)")
        let health = try RawHTTPConnection(host: berlin, port: 18500, timeout: 2)
        try health.send("GET /healthz HTTP/1.1\r\nHost: \(berlin)\r\n\r\n")
        #expect((try? health.readResponse())?.status != 200, "a stalled node's /healthz does not say ok")

        for _ in loops { stall.signal() }
        released = true
        #expect(await NodeRuntimeTests.eventually(15) {
            (try? RawHTTPConnection.get(paris, 18500, master, source: berlinViewer).header("Location"))?.contains(berlin) == true
        }, "Berlin is routed to again once its loops answer")
        #expect(runtimes[2].state.servesViewers)
        #expect(try RawHTTPConnection.get(berlin, 18500, "/healthz").status == 200)
    }
}

/// A steering player, as hls.js behaves: it reloads the steering manifest, takes the first pathway of its priority
/// that the playlist offers, and fetches that pathway's variant.
struct SteeringPlayer {
    let playlist: MasterPlaylist
    let steeringHost: String
    let port: Int
    let viewer: String
    private let pathway = Box()

    private final class Box: @unchecked Sendable { var value: String? }

    init(playlist: MasterPlaylist, steeringHost: String, port: Int, viewer: String) {
        self.playlist = playlist
        self.steeringHost = steeringHost
        self.port = port
        self.viewer = viewer
    }

    /// Reloads the manifest (`_HLS_pathway` as hls.js sends it); returns the pathway now in use.
    func reload() throws -> String? {
        let path = "/steering/content-ts?_HLS_pathway=\(pathway.value ?? ".")&_HLS_throughput=500000"
        let response = try RawHTTPConnection.get(steeringHost, port, path, source: viewer)
        let manifest = try SteeringManifest.parse(Data(response.body))
        let offered = Set(playlist.variants.compactMap(\.pathwayID))
        pathway.value = manifest.pathwayPriority.first { offered.contains($0) }
        return pathway.value
    }

    /// Fetches the first variant of the current pathway from `host` (its absolute URL must name it); the status.
    func fetchVariant(host: String) throws -> Int {
        guard let variant = playlist.variants.first(where: { $0.pathwayID == pathway.value }),
              let url = URL(string: variant.uri), url.host == host, let port = url.port else { return -1 }
        return try RawHTTPConnection.get(host, port, url.path, source: viewer).status
    }
}

/// The redirect cache: a decision holds for one view generation and at most its time to live; memory is bounded.
@Suite struct RedirectCacheTests {
    static func to(_ node: String?) -> RedirectCache.Target { RedirectCache.Target(node: node, degraded: false) }

    @Test func decisionsHoldForOneGenerationAndTheirTimeToLive() {
        let cache = RedirectCache(ttl: 1_000, capacity: 3)
        let paris = RedirectCache.Key(place: .zone("paris"), content: "clip")
        #expect(cache.lookup(paris, generation: 1, now: 0) == nil, "nothing decided yet")
        cache.store(Self.to("edge-paris"), for: paris, generation: 1, now: 0)
        #expect(cache.lookup(paris, generation: 1, now: 999) == Self.to("edge-paris"))
        #expect(cache.lookup(paris, generation: 1, now: 1_000) == nil, "expired")
        #expect(cache.lookup(paris, generation: 2, now: 10) == nil, "the view changed: decide again")
        let here = RedirectCache.Key(place: .node, content: "clip")
        cache.store(Self.to(nil), for: here, generation: 1, now: 0)
        #expect(cache.lookup(here, generation: 1, now: 1) == Self.to(nil), "\"serve here\" is a decision too")
        cache.store(Self.to("edge-berlin"), for: RedirectCache.Key(place: .zone("berlin"), content: "clip"), generation: 2, now: 5)
        #expect(cache.lookup(here, generation: 1, now: 6) == nil && cache.lookup(paris, generation: 2, now: 6) == nil,
                "a newer generation clears the older decisions")
        for index in 0..<3 { cache.store(Self.to("n"), for: RedirectCache.Key(place: .zone("z\(index)"), content: "c"), generation: 2, now: 5) }
        #expect(cache.lookup(RedirectCache.Key(place: .zone("berlin"), content: "clip"), generation: 2, now: 6) == nil,
                "full: it started over")
        #expect(cache.lookup(RedirectCache.Key(place: .zone("z2"), content: "c"), generation: 2, now: 6) == Self.to("n"))
    }
}

/// The node endpoints' access rules, without sockets.
@Suite struct NodeEndpointsTests {
    static func request(_ uri: String) -> HTTPRequestHead { HTTPRequestHead(version: .http1_1, method: .GET, uri: uri) }

    @Test func accessRules() throws {
        let endpoints = NodeEndpoints(metrics: nil, state: NodeState(name: "n", role: .edge),
                                      fleet: LiveFleet(.init(fleetHosts: [IPAddress("198.51.100.7")!])))
        let stranger = try SocketAddress(ipAddress: "192.0.2.1", port: 4000)
        let member = try SocketAddress(ipAddress: "198.51.100.7", port: 4000)
        let local = try SocketAddress(ipAddress: "127.0.0.1", port: 4000)
        #expect(endpoints.answer(Self.request("/healthz"), isHead: false, peer: stranger)?.status == 200)
        #expect(endpoints.answer(Self.request("/cluster"), isHead: false, peer: stranger)?.status == 403)
        #expect(endpoints.answer(Self.request("/cluster"), isHead: false, peer: member)?.status == 404, "allowed; this node does not gossip")
        #expect(endpoints.answer(Self.request("/cluster"), isHead: false, peer: local)?.status == 404)
        #expect(endpoints.answer(Self.request("/metrics"), isHead: false, peer: stranger) == nil, "no registry: an ordinary path")
        #expect(endpoints.answer(Self.request("/route/clip"), isHead: false, peer: stranger)?.status == 404)
        #expect(endpoints.answer(Self.request("/clip/master.m3u8"), isHead: false, peer: stranger) == nil, "no router: serve the file")
    }

    /// `/metrics` and `/cluster` open to loopback, the `[operators]` networks and the operators' bearer token.
    @Test func operatorAccess() throws {
        let access = OperatorAccess(allow: [try IPNetwork("10.20.0.0/16")], token: Array("s3cret-operator-token".utf8))
        let endpoints = NodeEndpoints(metrics: PrometheusCollectorRegistry(), state: NodeState(name: "n", role: .edge),
                                      fleet: LiveFleet(.init(fleetHosts: [], operators: access)))
        func metrics(_ peer: String, _ authorization: String? = nil) throws -> Int? {
            var request = Self.request("/metrics")
            if let authorization { request.headers.add(name: "Authorization", value: authorization) }
            return endpoints.answer(request, isHead: false, peer: try SocketAddress(ipAddress: peer, port: 4000))?.status
        }
        #expect(try metrics("127.0.0.1") == 200)
        #expect(try metrics("::1") == 200)
        #expect(try metrics("10.20.3.4") == 200, "an allowed network")
        #expect(try metrics("10.21.3.4") == 403)
        #expect(try metrics("192.0.2.1", "Bearer s3cret-operator-token") == 200)
        #expect(try metrics("192.0.2.1", "bearer s3cret-operator-token") == 200, "the scheme is case-insensitive")
        #expect(try metrics("192.0.2.1", "Bearer s3cret-operator-tokeN") == 403)
        #expect(try metrics("192.0.2.1", "Bearer s3cret-operator-token2") == 403)
        #expect(try metrics("192.0.2.1", "Basic s3cret-operator-token") == 403)
        var page = Self.request("/status/data")
        page.headers.add(name: "Cookie", value: "theme=dark; edgenode_operator=s3cret-operator-token")
        #expect(endpoints.answer(page, isHead: false, peer: try SocketAddress(ipAddress: "192.0.2.1", port: 1))?.status == 200,
                "the status page's cookie")
        page.headers.replaceOrAdd(name: "Cookie", value: "edgenode_operator=s3cret-operator-tokeX")
        #expect(endpoints.answer(page, isHead: false, peer: try SocketAddress(ipAddress: "192.0.2.1", port: 1))?.status == 403)
        let form = endpoints.answer(Self.request("/status"), isHead: false, peer: try SocketAddress(ipAddress: "192.0.2.1", port: 1))
        #expect(form?.status == 403 && { if case .text(let html) = form?.body { html.contains("id=\"login\"") } else { false } }(),
                "a stranger gets the token form")
        var cluster = Self.request("/cluster")
        cluster.headers.add(name: "Authorization", value: "Bearer s3cret-operator-token")
        #expect(endpoints.answer(cluster, isHead: false, peer: try SocketAddress(ipAddress: "192.0.2.1", port: 1))?.status == 404,
                "allowed (this node does not gossip)")
        #expect(endpoints.answer(Self.request("/cluster"), isHead: false, peer: try SocketAddress(ipAddress: "192.0.2.1", port: 1))?.status == 403)
    }

    @Test func theLoopGuard() {
        #expect(ViewerRouter.wasRouted("/c/master.m3u8?edgenode_routed=1"))
        #expect(ViewerRouter.wasRouted("/c/master.m3u8?a=b&edgenode_routed=1"))
        #expect(!ViewerRouter.wasRouted("/c/master.m3u8?edgenode_routedx=1"))
        #expect(!ViewerRouter.wasRouted("/c/master.m3u8"))
    }
}

/// A node whose own health is bad routes new viewers away.
@Suite struct SelfSheddingTests {
    /// Every node of `config` as a live gossip member.
    static func aliveMembers(_ config: NodesConfig) -> [Gossip.Member] {
        config.nodes.map { node in
            Gossip.Member(info: NodeRuntime.memberInfo(node, gossip: SocketAddressSpec(host: "127.0.0.1", port: 1)), incarnation: 1,
                          status: .alive, health: NodeHealth(), changedAt: 0)
        }
    }

    @Test func aStrugglingNodeShedsItsViewers() throws {
        let text = Self.fleet
        let config = try NodesConfig.parse(text, path: "t.conf", baseDirectory: "/tmp")
        let me = try config.node(named: "edge-near")
        let router = ViewerRouter(config: config, me: me, state: NodeState(name: me.name, role: .edge))
        let members = Self.aliveMembers(config)
        let placement = router.place(peer: IPAddress("10.1.1.1")!, forwardedFor: [])
        #expect(placement.source == "node:edge-near")
        for (multiplier, expected) in [(0, "edge-near"), (3, "edge-near"), (4, "edge-far")] {
            let view = ClusterView(node: me.name, localHealthMultiplier: multiplier, members: members, records: [:])
            let decision = router.decide(placement, contentID: "clip", view: view, now: 100_000_000_000).decision
            #expect(decision.candidates.first?.name == expected, "local health \(multiplier)")
        }
    }

    /// Issue 24 (6, 11): a `Location` is built from the target's path and query only (an absolute-form target's host
    /// is never echoed), and keeps the viewer's scheme: a viewer who came over HTTPS goes to the node's HTTPS
    /// address, or is served here when the chosen node has none.
    @Test func redirectsAreBuiltFromThePathAndKeepTheScheme() throws {
        func route(_ text: String, uri: String, secure: Bool) throws -> ViewerRouter.Verdict {
            let config = try NodesConfig.parse(text, path: "t.conf", baseDirectory: "/tmp")
            let me = try config.node(named: "edge-near")
            let router = ViewerRouter(config: config, me: me, state: NodeState(name: me.name, role: .edge))
            let members = Self.aliveMembers(config)
            // This node struggles, so it sheds its viewers to edge-far.
            let view = ClusterView(node: me.name, localHealthMultiplier: 4, members: members, records: [:])
            let components = try #require(RequestPath.components(of: uri[...]))
            return router.route(uri: uri, components: components, peer: IPAddress("10.1.1.1")!, forwardedFor: [], secure: secure, view: view)
        }
        let far = "127.0.0.3:1/clip/master.m3u8?edgenode_routed=1"
        #expect(try route(Self.fleet, uri: "http://other.example/clip/master.m3u8", secure: false) == .redirect("http://" + far))
        #expect(try route(Self.fleet, uri: "http://other.example:8080/clip/master.m3u8?token=a", secure: false)
                == .redirect("http://127.0.0.3:1/clip/master.m3u8?token=a&edgenode_routed=1"))
        #expect(try route(Self.fleet, uri: "/clip/master.m3u8", secure: false) == .redirect("http://" + far))
        #expect(try route(Self.fleet, uri: "/clip/master.m3u8#frag?x=1", secure: false) == .redirect("http://" + far), "a fragment is no query")
        #expect(try route(Self.fleet, uri: "http://evil.example?/clip/master.m3u8", secure: false) == .serve, "the root, not a playlist")
        #expect(try route(Self.fleet, uri: "/clip/master.m3u8", secure: true) == .serve, "edge-far has no HTTPS address: served here")
        let withHTTPS = Self.fleet + "\nhttps = \"127.0.0.3:2\"\ntls_cert = \"c.pem\"\ntls_key = \"c.key\"\n"
        #expect(try route(withHTTPS, uri: "/clip/master.m3u8", secure: true) == .redirect("https://127.0.0.3:2/clip/master.m3u8?edgenode_routed=1"))
        #expect(try route(withHTTPS, uri: "https://other.example/clip/master.m3u8", secure: true)
                == .redirect("https://127.0.0.3:2/clip/master.m3u8?edgenode_routed=1"))
        #expect(try route(withHTTPS, uri: "/clip/master.m3u8", secure: false) == .redirect("http://" + far), "plain HTTP stays plain")
        let named = try NodesConfig.parse(Self.fleet.replacingOccurrences(of: "http = \"127.0.0.3:1\"", with: "http = \"127.0.0.3:1\"\nurl = \"http://far.cdn.test:8080\"")
                                          + "\nhttps = \"127.0.0.3:2\"\ntls_cert = \"c.pem\"\ntls_key = \"c.key\"\n", path: "t.conf", baseDirectory: "/tmp")
        #expect(try named.node(named: "edge-far").httpsURL == "https://far.cdn.test:2", "the public host name at the HTTPS port")
        #expect(try named.node(named: "edge-near").httpsURL == nil)
    }

    /// A node gossip still reports alive but a reload removed from nodes.conf is never a candidate.
    @Test func aNodeRemovedFromTheConfigurationIsNotRouted() throws {
        let full = try NodesConfig.parse(Self.fleet, path: "t.conf", baseDirectory: "/tmp")
        let me = try full.node(named: "edge-far")
        let members = Self.aliveMembers(full)
        let view = ClusterView(node: me.name, localHealthMultiplier: 0, members: members, records: [:])
        let before = ViewerRouter(config: full, me: me, state: NodeState(name: me.name, role: .edge))
        let placement = before.place(peer: IPAddress("10.1.1.1")!, forwardedFor: [])
        let near = GeoPoint(latitude: 48.85, longitude: 2.35)!
        let viewer = ViewerRouter.Placement(address: placement.address, location: near, by: .zone("paris"))
        #expect(before.decide(viewer, contentID: "clip", view: view, now: 100_000_000_000).decision.candidates.first?.name == "edge-near")
        let reduced = try NodesConfig.parse(Self.fleet.components(separatedBy: "\n\n[[node]]\nname = \"edge-near\"")[0]
                                            + "\n\n" + Self.fleet.components(separatedBy: "\n\n").last!, path: "t.conf", baseDirectory: "/tmp")
        #expect(reduced.nodes.map(\.name) == ["origin-1", "edge-far"])
        let after = ViewerRouter(config: reduced, me: try reduced.node(named: "edge-far"), state: NodeState(name: me.name, role: .edge))
        let candidates = after.decide(viewer, contentID: "clip", view: view, now: 100_000_000_000).decision.candidates.map(\.name)
        #expect(!candidates.contains("edge-near") && candidates.first == "edge-far", "\(candidates)")
    }

    static let fleet = """
        [[node]]
        name = "origin-1"
        role = "origin"
        region = "eu"
        latitude = 48.85
        longitude = 2.35
        http = "127.0.0.1:1"
        content = "c"

        [[node]]
        name = "edge-near"
        role = "edge"
        region = "eu"
        latitude = 48.85
        longitude = 2.35
        http = "127.0.0.2:1"
        content = "c"
        parents = ["origin-1"]
        origin_key = "k.pub"

        [[node]]
        name = "edge-far"
        role = "edge"
        region = "eu"
        latitude = 50.85
        longitude = 4.35
        http = "127.0.0.3:1"
        content = "c"
        parents = ["origin-1"]
        origin_key = "k.pub"
        """
}
