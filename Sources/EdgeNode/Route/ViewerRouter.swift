import Foundation
import Dispatch
import HTTPSemantics
import NIOHTTP1
import Routing

/// Where this node sends a viewer: the viewer is placed by coverage zone (longest prefix of its address, the socket's
/// peer or, behind a trusted proxy, `X-Forwarded-For`), else by the GeoIP database when it knows the city, else at
/// this node; the routing policy ranks the nodes gossip
/// reports healthy; a playlist request is redirected to the first when that is another node.
struct ViewerRouter: Sendable {
    /// Added to redirect targets: a redirected request is never redirected again.
    static let routedParameter = "edgenode_routed"

    /// Where the viewer is and how that was decided.
    struct Placement: Sendable, Equatable {
        enum Source: Sendable, Equatable {
            case zone(String)
            case geoip
            /// Neither placed the address: the viewer is taken to be at this node.
            case node(String)
        }

        let address: IPAddress
        let location: GeoPoint
        let by: Source

        /// `zone:NAME`, `geoip`, or `node:NAME`.
        var source: String {
            switch by {
            case .zone(let name): "zone:" + name
            case .geoip: "geoip"
            case .node(let name): "node:" + name
            }
        }

        /// How the redirect cache knows this placement (nil: not cached).
        var cachePlace: RedirectCache.Place? {
            switch by {
            case .zone(let name): .zone(name)
            case .geoip: nil
            case .node: .node
            }
        }
    }

    let me: NodesConfig.Node
    /// Each node's base URL for viewers who came over plain HTTP, and for those who came over HTTPS (nodes with an
    /// HTTPS listener only): a redirect keeps the viewer's scheme.
    let urls: [String: String]
    let secureURLs: [String: String]
    /// Every node of the fleet, in `nodes.conf` order.
    let pathways: [String]
    let routing: RoutingConfig
    let state: NodeState
    private let geoip: GeoIPDatabase?
    private let policy: RoutingPolicy
    private let redirects = RedirectCache()
    private let metrics = RoutingMetrics.shared
    private let myLocation: GeoPoint

    init(config: NodesConfig, me: NodesConfig.Node, state: NodeState, geoip: GeoIPDatabase? = nil) {
        self.me = me
        self.geoip = geoip
        urls = Dictionary(uniqueKeysWithValues: config.nodes.map { ($0.name, $0.url) })
        secureURLs = Dictionary(uniqueKeysWithValues: config.nodes.compactMap { node in node.httpsURL.map { (node.name, $0) } })
        pathways = config.nodes.map(\.name)
        routing = config.routing
        self.state = state
        policy = RoutingPolicy(settings: config.routing.policy)
        // nodes.conf checked the coordinates.
        myLocation = GeoPoint(latitude: me.latitude, longitude: me.longitude) ?? GeoPoint(latitude: 0, longitude: 0)!
    }

    func place(peer: IPAddress, forwardedFor: [Substring]) -> Placement {
        let address = ViewerAddress.resolve(peer: peer, forwardedFor: forwardedFor, trustedProxies: routing.trustedProxies)
        if let zone = routing.zones.zone(of: address) {
            return Placement(address: address, location: zone.location, by: .zone(zone.name))
        }
        if let location = geoip?.location(of: address) {
            return Placement(address: address, location: location, by: .geoip)
        }
        return Placement(address: address, location: myLocation, by: .node(me.name))
    }

    /// Roles that serve viewers in emergency broadcast mode: the nearest healthy mesh or satellite node.
    static let emergencyTiers: [Set<NodeRole>] = [[.mesh, .satellite]]

    /// A routing decision and the mode it was taken in.
    struct Choice: Sendable {
        let decision: RoutingPolicy.Decision
        /// Emergency broadcast mode was on.
        let emergency: Bool
        /// Emergency mode is on but no mesh or satellite node is healthy: the decision fell back to normal routing,
        /// so viewers are served rather than black-holed (`X-Emergency: degraded`).
        let degraded: Bool
    }

    /// The ranked candidates for a viewer at `placement` asking for `contentID`; nil when this node does not gossip
    /// (it knows no one else, so it serves).
    func decide(_ placement: Placement, contentID: String, limit: Int? = nil) -> Choice? {
        state.cluster.map { decide(placement, contentID: contentID, view: $0, now: DispatchTime.now().uptimeNanoseconds, limit: limit) }
    }

    /// Lifeguard's local health multiplier at or above this means this node is struggling (its probes time out, its
    /// timers run late): it sheds new viewers as if overloaded.
    static let sheddingLocalHealth = 4

    /// The decision for a given view at `now` (uptime ns). This node keeps its viewers within the hysteresis, and
    /// sheds them while its own health is bad. In emergency mode only mesh and satellite nodes are candidates; when
    /// none is healthy, the normal tiers are used and the choice says it is degraded.
    func decide(_ placement: Placement, contentID: String, view: ClusterView, now: UInt64, limit: Int? = nil) -> Choice {
        // A node gossip still knows but nodes.conf no longer lists (removed by a reload) is not routed to.
        var members = view.routingMembers(now: now).filter { urls[$0.name] != nil }
        if view.localHealthMultiplier >= Self.sheddingLocalHealth, let index = members.firstIndex(where: { $0.name == me.name }) {
            members[index].load = 1000
        }
        if view.emergencyOn {
            let emergency = policy.decide(.init(viewer: placement.location, contentID: contentID, roleTiers: Self.emergencyTiers, previous: me.name),
                                          members: members, limit: limit)
            if !emergency.candidates.isEmpty { return Choice(decision: emergency, emergency: true, degraded: false) }
        }
        let normal = policy.decide(.init(viewer: placement.location, contentID: contentID, previous: me.name), members: members, limit: limit)
        return Choice(decision: normal, emergency: view.emergencyOn, degraded: view.emergencyOn)
    }

    /// Whether this node redirects viewers' segment requests too: an origin or edge in emergency mode.
    var movesSegments: Bool { state.emergencyOn && (me.role == .origin || me.role == .edge) }

    /// What routing makes of a viewer's request for a file of a content.
    enum Verdict: Equatable, Sendable {
        /// Served here, as usual.
        case serve
        /// Served here although emergency mode is on: no mesh or satellite node is healthy.
        case serveDegraded
        /// Redirected to this URL.
        case redirect(String)
    }

    /// For a viewer's request of `uri` (path `components`, first the content id): a playlist is redirected to the
    /// node routing chooses when that is another one; in emergency mode an origin or edge redirects every file
    /// (segments too, so that a player in the middle of a stream follows the move). A steered playlist, a request
    /// redirected already, and anything at a node that does not gossip are served here; so is a request that came
    /// over HTTPS when the chosen node has no HTTPS address (a redirect never downgrades the scheme). The `Location`
    /// is built from the target's path and query only: an absolute-form target's host is not echoed.
    /// The base URL of `node` for a viewer who came over HTTPS (`secure`) or plain HTTP; nil when it has none.
    func base(of node: String, secure: Bool) -> String? { secure ? secureURLs[node] : urls[node] }

    /// `view` replaces the node's gossiped view (a test's), and is then not cached.
    func route(uri: String, components: [Substring], peer: IPAddress, forwardedFor: [Substring], secure: Bool, view: ClusterView? = nil) -> Verdict {
        guard components.count >= 2, let last = components.last else { return .serve }
        let playlist = last.hasSuffix(".m3u8")
        // The loop guard holds except at an origin or edge in emergency mode: nothing routes a viewer there then (it
        // is sent to mesh and satellite nodes, which never redirect), so a viewer adding `edgenode_routed=1` itself
        // does not stay.
        guard playlist || movesSegments, !(playlist && last == "steered.m3u8" && components.count == 2), movesSegments || !Self.wasRouted(uri) else {
            return .serve
        }
        let placement = place(peer: peer, forwardedFor: forwardedFor)
        let contentID = String(components[0])
        guard let target = redirectTarget(placement, contentID: contentID, view: view) else {
            noteDecision(.serve, reason: .noView, placement: placement, content: contentID, target: me.name)
            return .serve
        }
        guard let node = target.node, let base = base(of: node, secure: secure) else {
            noteDecision(target.degraded ? .degraded : .serve, reason: target.reason, placement: placement, content: contentID, target: me.name)
            return target.degraded ? .serveDegraded : .serve
        }
        noteDecision(.redirect, reason: target.reason, placement: placement, content: contentID, target: node)
        let asked = RequestPath.originForm(of: uri[...]).prefix { $0 != "#" }
        let path = asked.prefix { $0 != "?" }
        let query = asked.firstIndex(of: "?").map { mark in
            asked[asked.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false)
                .filter { !($0.hasPrefix(Self.routedParameter + "=") || $0 == Self.routedParameter) }.joined(separator: "&")
        }
        return .redirect(base + path + "?" + (query.map { $0.isEmpty ? "" : $0 + "&" } ?? "") + Self.routedParameter + "=1")
    }

    /// Counts a decision and keeps it for the status page.
    private func noteDecision(_ result: RoutingMetrics.Result, reason: RoutingMetrics.Reason, placement: Placement, content: String,
                              target: String) {
        metrics.decided(result, reason: reason)
        state.routingHistory.append(RoutingEvent(time: Date().timeIntervalSince1970, viewer: placement.source, content: content,
                                                 result: result.rawValue, target: target, reason: reason.rawValue))
    }

    /// Where a viewer's request goes (`node` nil: served here), from the redirect cache when it holds a decision for
    /// this placement, content and view generation; nil when this node has no cluster view yet.
    private func redirectTarget(_ placement: Placement, contentID: String, view given: ClusterView?) -> RedirectCache.Target? {
        let now = DispatchTime.now().uptimeNanoseconds
        let generation = state.clusterGeneration
        let key = given == nil ? placement.cachePlace.map { RedirectCache.Key(place: $0, content: contentID) } : nil
        if let key, let cached = redirects.lookup(key, generation: generation, now: now) { return cached }
        guard let view = given ?? state.cluster else { return nil }
        let choice = decide(placement, contentID: contentID, view: view, now: now, limit: 1)
        let first = choice.decision.candidates.first
        let target = RedirectCache.Target(node: first.flatMap { $0.name == me.name ? nil : $0.name }, degraded: choice.degraded,
                                          reason: first.map { RoutingMetrics.Reason($0.reason) } ?? .noCandidate)
        if let key { redirects.store(target, for: key, generation: generation, now: now) }
        return target
    }

    /// Whether the request's query carries the loop guard.
    static func wasRouted(_ uri: String) -> Bool {
        guard let mark = uri.firstIndex(of: "?") else { return false }
        return uri[uri.index(after: mark)...].split(separator: "&").contains { $0.hasPrefix(routedParameter + "=") || $0 == routedParameter }
    }
}
