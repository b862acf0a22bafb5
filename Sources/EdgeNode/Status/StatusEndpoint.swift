import Foundation
import HTTPSemantics
import NIOHTTP1
import Routing

/// The operator status page on every node's viewer-facing port: `/status` (the page), `/status/app.js`,
/// `/status/style.css` and `/status/data` (JSON: this node's cluster view, its emergency history, its latest routing
/// decisions, the coverage zones). Everything is for operators only (`OperatorAccess`: loopback, the `[operators]`
/// networks, or the token as a bearer or the page's cookie); anyone else gets the page's token form, with 403.
struct StatusEndpoint: Sendable {
    static let prefix = "/status"

    let state: NodeState
    let fleet: LiveFleet?

    /// What `/status/data` answers.
    struct Data: Codable, Sendable {
        struct Zone: Codable, Sendable {
            let name: String
            let latitude: Double
            let longitude: Double
        }

        let node: String
        let role: String
        /// Unix seconds when it was made.
        let time: Double
        let cluster: ClusterSnapshot?
        let emergencyHistory: [EmergencyEvent]
        let decisions: [RoutingEvent]
        let zones: [Zone]
    }

    /// Pages may load scripts, styles and data from this node only, and may not be framed.
    static let securityFields: [ResponsePlan.Field] = [
        .init("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
              + "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"),
        .init("X-Content-Type-Options", "nosniff"), .init("Referrer-Policy", "no-referrer"), .init("Cache-Control", "no-store"),
    ]

    /// The answer for `uri` (a path under `/status`), or nil when it is not one of the page's.
    func answer(_ uri: String, headers: HTTPHeaders, peer: IPAddress?, access: OperatorAccess, isHead: Bool) -> ResponsePlan? {
        let path = uri.prefix { $0 != "?" && $0 != "#" }
        let asset: (type: String, body: String)?
        switch path {
        case "/status", "/status/": asset = ("text/html; charset=utf-8", StatusPageAssets.html)
        case "/status/app.js": asset = ("text/javascript; charset=utf-8", StatusPageAssets.javascript)
        case "/status/style.css": asset = ("text/css; charset=utf-8", StatusPageAssets.css)
        case "/status/data": asset = nil
        default: return nil
        }
        let admitted = access.admits(peer: peer, authorization: headers.first(name: "authorization"), cookie: headers.first(name: "cookie"))
        // The script and the style carry no data: the token form needs them before the token is known.
        if let asset, admitted || path == "/status/app.js" || path == "/status/style.css" {
            return ResponsePlan(status: 200, fields: [.init("Content-Type", asset.type)] + Self.securityFields, body: .text(asset.body),
                                sendsBody: !isHead)
        }
        guard admitted else {
            if asset != nil {
                return ResponsePlan(status: 403, fields: [.init("Content-Type", "text/html; charset=utf-8")] + Self.securityFields,
                                    body: .text(StatusPageAssets.login), sendsBody: !isHead)
            }
            return ResponsePlanner.status(403, "the status page is for loopback, the [operators] networks, or the operators' token", isHead: isHead)
        }
        let zones = fleet?.snapshot.router?.routing.zones.zones.map {
            Data.Zone(name: $0.name, latitude: $0.location.latitude, longitude: $0.location.longitude)
        } ?? []
        let data = Data(node: state.name, role: state.role.rawValue, time: Date().timeIntervalSince1970, cluster: state.clusterSnapshot,
                        emergencyHistory: state.emergencyHistory.events, decisions: state.routingHistory.events, zones: zones)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let json = try? encoder.encode(data) else { return ResponsePlanner.status(500, "cannot encode the status", isHead: isHead) }
        return ResponsePlan(status: 200, fields: [.init("Content-Type", "application/json")] + Self.securityFields,
                            body: .text(String(decoding: json, as: UTF8.self)), sendsBody: !isHead)
    }
}
