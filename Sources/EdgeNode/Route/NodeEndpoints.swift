import Foundation
import HTTPSemantics
import Manifest
import NIOCore
import NIOHTTP1
import Prometheus
import Routing

/// The node's own endpoints on its viewer-facing port, answered before any file: `/healthz`; `/metrics` (loopback,
/// the `[operators]` networks or token: it names parents and traffic); `/cluster` (those, and the fleet's own hosts:
/// it is the fleet's topology); `/route/{content}` (anyone: what this node would do for the asking viewer); `/fleet/emergency` (the
/// emergency flag: read by anyone, posted by operators); and viewer routing (`viewerRoute`).
struct NodeEndpoints: Sendable {
    let metrics: PrometheusCollectorRegistry?
    let state: NodeState?
    /// The routing, fleet hosts and emergency check in force (nil for a directory served on its own).
    let fleet: LiveFleet?
    /// Places viewers and redirects their playlist requests (nodes that gossip).
    var router: ViewerRouter? { fleet?.snapshot.router }
    /// Steered playlists and steering manifests (nodes that route).
    var steering: ContentSteering? {
        router.map { router in ContentSteering(router: router, pathways: router.pathways) }
    }
    /// Addresses of the fleet's nodes (their `http` hosts), which may read `/cluster`.
    var fleetHosts: Set<IPAddress> { fleet?.snapshot.fleetHosts ?? [] }
    /// Who may read `/metrics` and `/cluster` (loopback only for a directory served on its own).
    var operatorAccess: OperatorAccess { fleet?.snapshot.operators ?? .loopbackOnly }
    /// `/fleet/emergency` (nodes that belong to a fleet).
    var emergency: EmergencyEndpoint? = nil
    /// Brings the gauges read at scrape time up to date (process, connections, cache) before `/metrics` is written.
    var beforeScrape: @Sendable () -> Void = {}

    /// The answer when `request` is for an endpoint (or a playlist to redirect), else nil: serve the file.
    func answer(_ request: HTTPRequestHead, isHead: Bool, peer: SocketAddress?) -> ResponsePlan? {
        let uri = request.uri
        switch uri {
        case "/healthz":
            guard state?.servesViewers ?? true else {
                return ResponsePlanner.status(503, "event loops of this node's data plane are stalled", isHead: isHead)
            }
            return ResponsePlanner.status(200, "ok", isHead: isHead)
        case "/metrics":
            guard let metrics else { return nil }
            guard operatorAccess.admits(peer: peerAddress(peer), authorization: request.headers.first(name: "authorization")) else {
                return ResponsePlanner.status(403, "metrics are for loopback, the [operators] networks, or the operators' token", isHead: isHead)
            }
            beforeScrape()
            var text: [UInt8] = []
            metrics.emit(into: &text)
            return ResponsePlan(status: 200, fields: [.init("Content-Type", "text/plain; version=0.0.4"), .init("Cache-Control", "no-store")],
                                body: .text(String(decoding: text, as: UTF8.self)), sendsBody: !isHead)
        case "/cluster":
            guard operatorAccess.admits(peer: peerAddress(peer), authorization: request.headers.first(name: "authorization"))
                    || peerAddress(peer).map(fleetHosts.contains) == true else {
                return ResponsePlanner.status(403, "the cluster view is for the fleet's own hosts", isHead: isHead)
            }
            return Self.json(state?.clusterSnapshot, missing: "this node does not gossip", isHead: isHead)
        case EmergencyEndpoint.path:
            return emergency?.current(isHead: isHead) ?? ResponsePlanner.status(404, "this node does not belong to a fleet", isHead: isHead)
        default:
            break
        }
        if uri.hasPrefix(StatusEndpoint.prefix), let state {
            let page = StatusEndpoint(state: state, fleet: fleet)
            if let plan = page.answer(uri, headers: request.headers, peer: peerAddress(peer), access: operatorAccess, isHead: isHead) { return plan }
        }
        if uri.hasPrefix("/route/") { return route(uri, headers: request.headers, peer: peer, isHead: isHead) }
        if uri.hasPrefix("/steering/") { return steering(uri, headers: request.headers, peer: peer, isHead: isHead) }
        return nil
    }

    /// What viewer routing makes of a request for a file.
    enum ViewerRouting {
        case serve
        /// Served here with `X-Emergency: degraded` (counted and logged): emergency mode is on and no mesh or
        /// satellite node is healthy.
        case serveDegraded
        case redirect(ResponsePlan)
    }

    /// `ViewerRouter.route` for a request that came over HTTPS (`secure`) or plain HTTP; fleet nodes' fills (a valid
    /// `FleetRequestAuth` proof) are never routed.
    func viewerRoute(_ request: HTTPRequestHead, isHead: Bool, peer: SocketAddress?, secure: Bool) -> ViewerRouting {
        let uri = request.uri
        // The common case first, without parsing the path: a segment while segments are not moved.
        let snapshot = fleet?.snapshot
        guard let router = snapshot?.router, router.movesSegments || RequestPath.path(of: uri[...], endsWith: ".m3u8") else { return .serve }
        guard let components = RequestPath.components(of: uri[...]), components.count >= 2,
              let peer = peerAddress(peer), !Self.isFleetRequest(request, auth: snapshot?.fleetAuth) else { return .serve }
        switch router.route(uri: uri, components: components, peer: peer, forwardedFor: Self.forwardedFor(request.headers), secure: secure) {
        case .serve:
            return .serve
        case .serveDegraded:
            emergency?.metrics.servedDegraded()
            return .serveDegraded
        case .redirect(let location):
            return .redirect(ResponsePlan(status: 302, fields: [.init("Location", location), .init("Cache-Control", "no-store"),
                                                                .init("Content-Type", "text/plain; charset=utf-8")],
                                          body: .text("redirected to \(location)\n"), sendsBody: !isHead))
        }
    }

    /// Whether `request` carries a valid proof that a node of the fleet sent it (never `Via`, which anyone can write).
    static func isFleetRequest(_ request: HTTPRequestHead, auth: FleetRequestAuth?) -> Bool {
        guard let auth, request.headers.contains(name: FleetRequestAuth.field) else { return false }
        return auth.sender(of: request.headers, path: request.uri, now: Int64(Date().timeIntervalSince1970)) != nil
    }

    /// The field on responses served in degraded emergency mode.
    static let degradedField = ResponsePlan.Field("X-Emergency", "degraded")

    /// `GET /route/{content}`: the viewer's placement and the ranked candidates, as JSON.
    private func route(_ uri: String, headers: HTTPHeaders, peer: SocketAddress?, isHead: Bool) -> ResponsePlan {
        guard let contentID = Self.contentID(uri) else { return ResponsePlanner.status(404, "not found: /route/{content id}", isHead: isHead) }
        guard let router, let address = peerAddress(peer) else {
            return ResponsePlanner.status(404, "this node does not gossip, so it does not route", isHead: isHead)
        }
        let placement = router.place(peer: address, forwardedFor: Self.forwardedFor(headers))
        guard let choice = router.decide(placement, contentID: contentID) else {
            return ResponsePlanner.status(503, "no cluster view yet", isHead: isHead)
        }
        let decision = choice.decision
        let answer = RouteAnswer(
            content: contentID, node: router.me.name,
            viewer: .init(address: placement.address.description, source: placement.source, latitude: placement.location.latitude,
                          longitude: placement.location.longitude),
            candidates: decision.candidates.map { candidate in
                .init(name: candidate.name, role: candidate.role.rawValue, url: router.urls[candidate.name] ?? "",
                      distanceKm: (candidate.distanceKm * 10).rounded() / 10, effectiveKm: (candidate.effectiveKm * 10).rounded() / 10,
                      tier: candidate.tier, reason: candidate.reason.rawValue)
            },
            excluded: decision.excluded.map { .init(name: $0.name, reason: $0.reason.rawValue) },
            emergency: choice.emergency ? (choice.degraded ? "degraded" : "on") : "off")
        return Self.json(answer, missing: "", isHead: isHead)
    }

    /// `GET /steering/{content}`: the steering manifest for the asking viewer.
    private func steering(_ uri: String, headers: HTTPHeaders, peer: SocketAddress?, isHead: Bool) -> ResponsePlan {
        guard let contentID = Self.contentID(uri) else { return ResponsePlanner.status(404, "not found: /steering/{content id}", isHead: isHead) }
        guard let steering, let address = peerAddress(peer) else {
            return ResponsePlanner.status(404, "this node does not gossip, so it does not steer", isHead: isHead)
        }
        let placement = steering.router.place(peer: address, forwardedFor: Self.forwardedFor(headers))
        return steering.manifest(contentID: contentID, placement: placement, isHead: isHead)
    }

    /// The valid content id of `/{endpoint}/{content id}`, or nil.
    private static func contentID(_ uri: String) -> String? {
        guard let components = RequestPath.components(of: uri[...]), components.count == 2,
              (try? ContentManifest.validateIdentifier(String(components[1]), field: "content id")) != nil else { return nil }
        return String(components[1])
    }

    private static func json<Value: Encodable>(_ value: Value?, missing: String, isHead: Bool) -> ResponsePlan {
        guard let value else { return ResponsePlanner.status(404, missing, isHead: isHead) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let json = try? encoder.encode(value) else { return ResponsePlanner.status(500, "cannot encode the answer", isHead: isHead) }
        return ResponsePlan(status: 200, fields: [.init("Content-Type", "application/json"), .init("Cache-Control", "no-store")],
                            body: .text(String(decoding: json, as: UTF8.self)), sendsBody: !isHead)
    }

    private func peerAddress(_ peer: SocketAddress?) -> IPAddress? { peer?.ipAddress.flatMap { IPAddress($0) } }

    static func forwardedFor(_ headers: HTTPHeaders) -> [Substring] {
        headers.compactMap { $0.name.isASCIIEqual(caseInsensitive: "x-forwarded-for") ? $0.value[...] : nil }
    }

}

/// The JSON of `GET /route/{content}`.
struct RouteAnswer: Codable, Equatable {
    struct Viewer: Codable, Equatable {
        let address: String
        /// `zone:NAME`, `geoip`, or `node:NAME` when neither places the address.
        let source: String
        let latitude: Double
        let longitude: Double
    }

    struct Candidate: Codable, Equatable {
        let name: String
        let role: String
        let url: String
        let distanceKm: Double
        let effectiveKm: Double
        let tier: Int
        let reason: String
    }

    struct Excluded: Codable, Equatable {
        let name: String
        let reason: String
    }

    let content: String
    /// The node that answered.
    let node: String
    let viewer: Viewer
    let candidates: [Candidate]
    let excluded: [Excluded]
    /// `off`, `on` (only mesh and satellite nodes are candidates) or `degraded` (on, but none of them is healthy).
    let emergency: String
}
