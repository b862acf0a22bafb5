import HTTPSemantics
import Manifest
import NIOCore
import NIOHTTP1
import Routing

/// `GET /{content}/steered.m3u8`: the steered multivariant playlist, built from the content's verified manifest (a
/// caching node may have to fetch it from a parent first).
extension FileRequestHandler {
    func startSteered(context: ChannelHandlerContext, request: HTTPRequestHead, contentID: String, steering: ContentSteering,
                      keepAlive: Bool, http10: Bool) {
        let isHead = request.method == .HEAD
        current.answer = .local
        let placement = context.channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }.map {
            steering.router.place(peer: $0, forwardedFor: NodeEndpoints.forwardedFor(request.headers))
        }
        let secure = secure
        guard let edge else {
            let plan: ResponsePlan
            do {
                let data = try AtomicFile.read(settings.root + "/" + contentID + "/manifest.json", limit: ContentManifest.maximumSize)
                let manifest = try ContentManifest.parse(data)
                if let verifier = settings.verifier { _ = try VerifiedManifest(manifest, verifier: verifier) }
                plan = steering.playlist(manifest, placement: placement, secure: secure, isHead: isHead)
            } catch {
                plan = ResponsePlanner.status(404, "not found", isHead: isHead)
            }
            respond(context: context, plan: plan, file: nil, keepAlive: keepAlive, http10: http10)
            return
        }
        state.beginAsync()
        let connection = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        edge.manifests.content(contentID, on: context.eventLoop).whenComplete { result in
            let (handler, context) = connection.value
            guard !handler.state.closing, context.channel.isActive else {
                handler.state.endAsync()
                return
            }
            let plan: ResponsePlan
            switch result {
            case .success(let content):
                plan = steering.playlist(content.verified.manifest, placement: placement, secure: secure, isHead: isHead)
            case .failure(ManifestUnavailable.notFound):
                plan = ResponsePlanner.status(404, "not found", isHead: isHead)
            case .failure:
                plan = ResponsePlanner.status(502, "bad gateway: no parent provided a verified manifest", isHead: isHead)
            }
            handler.finishAsync(context: context, plan: plan, outcome: nil, keepAlive: keepAlive, http10: http10)
        }
    }
}
