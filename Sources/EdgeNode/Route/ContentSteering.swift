import Foundation
import HTTPSemantics
import Manifest
import Routing

/// HLS Content Steering from any routing node: `GET /{content}/steered.m3u8` is the content's multivariant playlist
/// with every variant cloned once per pathway (one pathway per node of the fleet that may serve viewers, absolute
/// URLs to that node), and `GET /steering/{content}` the steering manifest that orders those pathways for the asking
/// viewer by the routing policy. A steering player moves between nodes at its next reload, without restarting; the
/// media playlists and segments it fetches are the origin-signed ones.
struct ContentSteering: Sendable {
    /// Seconds between a player's reloads of the steering manifest (hls.js takes the TTL as given).
    static let ttlSeconds = 10

    let router: ViewerRouter
    /// Every node of the fleet, in `nodes.conf` order: the pathways of a steered playlist.
    let pathways: [String]

    /// The steered multivariant playlist of `manifest`'s content for a viewer at `placement` who came over HTTPS
    /// (`secure`) or plain HTTP: its pathways in the order the steering manifest would give them, so a player starts
    /// on the policy's first choice for it (emergency mode included) before it first loads the manifest; only nodes
    /// reachable in the viewer's scheme are pathways.
    func playlist(_ manifest: ContentManifest, placement: ViewerRouter.Placement?, secure: Bool, isHead: Bool) -> ResponsePlan {
        let master = MasterPlaylist(independentSegments: true, variants: manifest.renditions.map { rendition in
            MasterPlaylist.Variant(bandwidth: rendition.bandwidth, averageBandwidth: rendition.averageBandwidth, codecs: rendition.codecs,
                                   resolution: rendition.resolution, frameRate: rendition.frameRate, uri: rendition.playlist)
        })
        let content = manifest.contentID
        let ordered = placement.map { priority(contentID: content, placement: $0) } ?? pathways
        let reachable = ordered.filter { router.base(of: $0, secure: secure) != nil }
        let me = router.base(of: router.me.name, secure: secure) ?? router.me.url
        let steered = master.steered(pathways: reachable, serverURI: me + "/steering/" + content,
                                     base: { router.base(of: $0, secure: secure).map { $0 + "/" + content + "/" } ?? "" })
        return ResponsePlan(status: 200, fields: [.init("Content-Type", "application/vnd.apple.mpegurl"), .init("Cache-Control", "no-store")],
                            body: .text(steered.render()), sendsBody: !isHead)
    }

    /// The steering manifest for a viewer at `placement`: the policy's candidates first, in order (in emergency mode
    /// the mesh and satellite nodes), then every other pathway (a player keeps them as fallbacks; none is left out, so a pathway never disappears from under it).
    func manifest(contentID: String, placement: ViewerRouter.Placement, isHead: Bool) -> ResponsePlan {
        let manifest = SteeringManifest(ttl: Self.ttlSeconds, reloadURI: nil, pathwayPriority: priority(contentID: contentID, placement: placement))
        return ResponsePlan(status: 200, fields: [.init("Content-Type", "application/json"), .init("Cache-Control", "no-store")],
                            body: .text(String(decoding: manifest.encoded(), as: UTF8.self)), sendsBody: !isHead)
    }

    /// The policy's candidates for the viewer first, in order, then every other pathway.
    private func priority(contentID: String, placement: ViewerRouter.Placement) -> [String] {
        let ranked = router.decide(placement, contentID: contentID)?.decision.candidates.map(\.name) ?? [router.me.name]
        return ranked + pathways.filter { !ranked.contains($0) }
    }

    /// The content id of a steered-playlist request (`/{content}/steered.m3u8`), if it is one.
    static func steeredContent(_ uri: String) -> String? {
        guard RequestPath.path(of: uri[...], endsWith: "/steered.m3u8"), let components = RequestPath.components(of: uri[...]), components.count == 2,
              components[1] == "steered.m3u8", (try? ContentManifest.validateIdentifier(String(components[0]), field: "content id")) != nil
        else { return nil }
        return String(components[0])
    }
}
