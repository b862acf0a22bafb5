import Dispatch
import HTTPSemantics
import Manifest
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// Requests on a caching node: hits carry `X-Cache`/`Age` and keep the cache policy informed; misses wait for the
/// content's verified manifest, then stream the object as its chunks are filled and verified.
extension FileRequestHandler {
    /// `X-Cache` (HIT, or STALE while the manifest cannot be revalidated) and `Age` for a file served from the cache;
    /// records the hit and prefetches the segments that follow.
    func cachedFields(_ edge: EdgeService, uri: String, file: OpenedFile) -> [ResponsePlan.Field] {
        var outcome = EdgeMetrics.Outcome.hit
        if let components = RequestPath.components(of: uri[...]), components.count >= 2 {
            let contentID = String(components[0])
            let path = components.dropFirst().joined(separator: "/")
            if let (content, stale) = edge.manifests.current(contentID) {
                if stale { outcome = .stale }
                if !DiskCache.isMetadata("\(contentID)/\(path)") {
                    edge.cache.noteHit("\(contentID)/\(path)", size: Int64(file.representation.length))
                }
                edge.prefetch(after: path, in: content)
            } else {
                // First request since start: load the manifest so that it gets revalidated.
                _ = edge.manifests.content(contentID, on: edge.engineLoop())
            }
        }
        answered(outcome)
        let age = max(0, Int64(time(nil)) - file.storedAt)
        return [.init("X-Cache", outcome.rawValue), .init("Age", String(age)), edge.via]
    }

    /// A GET or HEAD for a file the cache does not hold.
    func startMiss(context: ChannelHandlerContext, request: HTTPRequestHead, edge: EdgeService, keepAlive: Bool, http10: Bool) {
        let isHead = request.method == .HEAD
        guard let components = RequestPath.components(of: request.uri[...]), components.count >= 2 else {
            respond(context: context, plan: ResponsePlanner.status(404, "not found", isHead: isHead), file: nil, keepAlive: keepAlive, http10: http10)
            return
        }
        if Self.onlyIfCached(request.headers) {
            // A mesh peer asks only for what this node holds (RFC 9111 §5.2.1.7).
            respond(context: context, plan: ResponsePlanner.status(504, "not cached", isHead: isHead, extra: [.init("X-Cache", "MISS"), edge.via]),
                    file: nil, keepAlive: keepAlive, http10: http10)
            return
        }
        let contentID = String(components[0])
        let path = components.dropFirst().joined(separator: "/")
        state.beginAsync()
        let connection = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        edge.manifests.content(contentID, on: context.eventLoop).whenComplete { result in
            let (handler, context) = connection.value
            handler.continueMiss(context: context, request: request, edge: edge, contentID: contentID, path: path, manifest: result,
                                 keepAlive: keepAlive, http10: http10)
        }
    }

    private func continueMiss(context: ChannelHandlerContext, request: HTTPRequestHead, edge: EdgeService, contentID: String, path: String,
                              manifest: Result<EdgeContent, Error>, keepAlive: Bool, http10: Bool, retryIfGone: Bool = true) {
        guard !state.closing, context.channel.isActive else {
            state.endAsync()
            return
        }
        let isHead = request.method == .HEAD
        let content: EdgeContent
        switch manifest {
        case .success(let found):
            content = found
        case .failure(let error):
            let plan: ResponsePlan
            switch error as? ManifestUnavailable {
            case .notFound:
                plan = ResponsePlanner.status(404, "not found", isHead: isHead)
            case .gatewayTimeout:
                plan = ResponsePlanner.status(504, "gateway timeout: no parent answered in time", isHead: isHead)
            case .badGateway, nil:
                plan = ResponsePlanner.status(502, "bad gateway: no parent provided a verified manifest", isHead: isHead)
            }
            if plan.status != 404 { edge.metrics.upstreamErrors.increment() }
            finishAsync(context: context, plan: plan, outcome: .miss, keepAlive: keepAlive, http10: http10)
            return
        }
        if case .file(let file) = store.lookup(path: request.uri[...]) {
            // The manifest itself (just stored), or an object committed meanwhile.
            state.endAsync()
            let outcome: EdgeMetrics.Outcome = path == "manifest.json" ? .miss : .hit
            answered(outcome)
            serve(context: context, request: request, file: file, cacheFields: [.init("X-Cache", outcome.rawValue), .init("Age", "0"), edge.via],
                  keepAlive: keepAlive, http10: http10)
            answerWaiting(context: context)
            return
        }
        guard let entry = content.verified.entry(for: path) else {
            finishAsync(context: context, plan: ResponsePlanner.status(404, "not found", isHead: isHead), outcome: nil, keepAlive: keepAlive, http10: http10)
            return
        }
        let name = components(path).last ?? Substring(path)
        let representation = Representation(
            length: UInt64(entry.chunks.size), lastModified: content.lastModified,
            etag: EntityTag(opaque: String(entry.chunks.root.hex.prefix(32))),
            contentType: MediaType.forFile(name), cacheControl: MediaType.cacheControl(forFile: name, isVODPlaylist: true))
        let conditions = Self.conditions(request.headers)
        let range: Range<UInt64>
        let partial: Bool
        switch conditions.map({ ResponsePlanner.select(isHead: isHead, request: $0, representation: representation) }) ?? .whole {
        case .notModified, .preconditionFailed, .unsatisfiable:
            // Answered from the manifest alone.
            let plan = ResponsePlanner.plan(isHead: isHead, request: conditions!, representation: representation, boundary: "")
            finishAsync(context: context, plan: plan, outcome: .hit, keepAlive: keepAlive, http10: http10)
            return
        case .ranges(let ranges) where ranges.count == 1:
            (range, partial) = (ranges[0], true)
        case .whole, .ranges:
            // Several ranges of an object not yet cached: the whole representation (RFC 9110 §14.2 lets a server
            // ignore Range).
            (range, partial) = (0..<representation.length, false)
        }
        var fields = ResponsePlanner.commonFields(representation)
        if partial { fields.append(.init("Content-Range", ResponsePlanner.contentRange(range, representation.length))) }
        if isHead {
            let plan = ResponsePlan(status: partial ? 206 : 200, fields: fields, body: .file(range), sendsBody: false)
            finishAsync(context: context, plan: plan, outcome: .miss, keepAlive: keepAlive, http10: http10)
            return
        }
        edge.prefetch(after: path, in: content)
        if settings.views != nil, let duration = content.verified.manifest.renditions.lazy.flatMap(\.segments).first(where: { $0.path == path })?.durationUs {
            let media = MediaSegment(content: contentID, segment: MediaSegment.id(path), milliseconds: UInt32(clamping: max(0, duration) / 1000))
            pendingView = PendingView(peer: context.channel.remoteAddress, request: request, media: media, bytes: UInt64(range.count),
                                      size: representation.length)
        }
        var head = ResponseHead.begin(status: partial ? 206 : 200, capacity: 512, allocator: context.channel.allocator)
        for field in fields + ResponsePlanner.corsFields + (degraded ? [NodeEndpoints.degradedField] : []) {
            ResponseHead.writeField(field.name, field.value, into: &head)
        }
        ResponseHead.writeField("Content-Length", String(range.count), into: &head)
        let miss = MissResponse(context: context, handler: self, range: Int64(range.lowerBound)..<Int64(range.upperBound),
                                status: partial ? 206 : 200, head: head, keepAlive: keepAlive, http10: http10)
        inFlight = miss
        switch edge.engine.request(path: "\(contentID)/\(path)", entry: entry, bytes: Int64(range.lowerBound)..<Int64(range.upperBound), sink: miss) {
        case .waiting:
            break
        case .committed:
            inFlight = nil
            state.endAsync()
            if case .file(let file) = store.lookup(path: request.uri[...]) {
                answered(.hit)
                serve(context: context, request: request, file: file, cacheFields: [.init("X-Cache", "HIT"), .init("Age", "0"), edge.via],
                      keepAlive: keepAlive, http10: http10)
                answerWaiting(context: context)
            } else if retryIfGone {
                // The index holds an object the disk no longer has (deleted under the node, or evicted because its
                // bytes failed verification): forget it and fill it again.
                edge.cache.remove("\(contentID)/\(path)")
                state.beginAsync()
                continueMiss(context: context, request: request, edge: edge, contentID: contentID, path: path, manifest: manifest,
                             keepAlive: keepAlive, http10: http10, retryIfGone: false)
            } else {
                respond(context: context, plan: ResponsePlanner.status(503, "object evicted while being served; retry", isHead: isHead),
                        file: nil, keepAlive: keepAlive, http10: http10)
                answerWaiting(context: context)
            }
        }
    }

    private func components(_ path: String) -> [Substring] { path.split(separator: "/") }

    /// Ends an asynchronous request with a complete, short response.
    func finishAsync(context: ChannelHandlerContext, plan: ResponsePlan, outcome: EdgeMetrics.Outcome?, keepAlive: Bool, http10: Bool) {
        state.endAsync()
        inFlight = nil
        var plan = plan
        if let outcome {
            answered(outcome)
            if !plan.fields.contains(where: { $0.name == "X-Cache" }) { plan.fields.append(.init("X-Cache", outcome.rawValue)) }
            if let edge, !plan.fields.contains(where: { $0.name == "Via" }) { plan.fields.append(edge.via) }
        }
        respond(context: context, plan: plan, file: nil, keepAlive: keepAlive, http10: http10)
        answerWaiting(context: context)
    }

    /// A streamed miss response ended: complete, or cut off after a failure (the client sees fewer bytes than
    /// Content-Length announced, never wrong ones).
    func streamEnded(context: ChannelHandlerContext, reader: SharedFile?, failed: Bool, keepAlive: Bool) {
        inFlight = nil
        if failed {
            // Measured as it ended: the client saw fewer bytes than announced.
            finishRecord(current, finished: DispatchTime.now().uptimeNanoseconds)
            state.end()
            context.close(promise: nil)
            return
        }
        state.endAsync()
        state.responseWritten(keepAlive: keepAlive)
        let done = context.writeAndFlush(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(capacity: 0))))
        responseEnds(context: context, written: done, keepAlive: keepAlive, holding: reader)
        answerWaiting(context: context)
    }

    /// Counts how a caching node answered (metrics and the hit ratio it gossips).
    func answered(_ outcome: EdgeMetrics.Outcome) {
        current.answer = ResponseRecord.Answer(outcome)
        edge?.metrics.responded(outcome)
        traffic.cacheAnswered(hit: outcome == .hit || outcome == .stale)
    }

    /// `Cache-Control: only-if-cached` in the request.
    static func onlyIfCached(_ headers: HTTPHeaders) -> Bool {
        headers["Cache-Control"].contains { $0.lowercased().contains("only-if-cached") }
    }
}
