import HTTPSemantics
import EdgeCache
import Logging
import NIOCore

/// What a caching node adds to the data plane: the disk cache, the verified manifests and the fill engine.
final class EdgeService: Sendable {
    let settings: EdgeSettings
    /// `Via` on every response of this node (RFC 9110 §7.6.3): which cache answered.
    var via: ResponsePlan.Field { ResponsePlan.Field("Via", "1.1 \(settings.nodeName)") }
    let cache: DiskCache
    /// The parents and their health (replaced by a reload).
    let parents: ParentPool
    let manifests: EdgeManifests
    let engine: FillEngine
    let metrics: EdgeMetrics

    init(settings: EdgeSettings, root: String, group: EventLoopGroup, logger: Logger) throws(StorageError) {
        self.settings = settings
        let metrics = EdgeMetrics(parents: settings.parents.map(\.name))
        self.metrics = metrics
        cache = try DiskCache(root: root, capacityBytes: settings.cacheSizeBytes)
        parents = ParentPool(parents: settings.parents, identity: FleetIdentity(node: settings.nodeName, proof: settings.fleetProof),
                             metrics: metrics, logger: logger, isDown: settings.isDown)
        let timeout = TimeAmount.seconds(settings.upstreamTimeoutSeconds)
        manifests = EdgeManifests(root: root, verifier: settings.verifier, parents: parents, cache: cache, group: group,
                                  ttlSeconds: settings.manifestTTLSeconds, timeout: timeout,
                                  metrics: metrics, logger: logger)
        engine = FillEngine(cache: cache, parents: parents, group: group, timeout: timeout,
                            settings: .init(waitTimeoutNanoseconds: UInt64(settings.waitTimeoutSeconds) * 1_000_000_000,
                                            maximumWaiters: settings.maximumWaiters),
                            metrics: metrics, logger: logger)
        logger.info("cache ready", metadata: ["objects-bytes": "\(cache.usedBytes)", "capacity": "\(settings.cacheSizeBytes)",
                                              "parents": "\(settings.parents.map(\.name).joined(separator: ","))"])
    }

    /// Stops fills and manifest fetches before the event loops shut down.
    func stop() {
        engine.stop()
        manifests.stop()
    }

    /// Starts background fills of the segments following `path` in its rendition.
    func prefetch(after path: String, in content: EdgeContent) {
        for next in content.segments(after: path, count: settings.prefetch) {
            guard let entry = content.verified.entry(for: next) else { continue }
            engine.prefetch(path: "\(content.verified.manifest.contentID)/\(next)", entry: entry)
        }
    }
}

extension EdgeService {
    /// An event loop for background work started from a request.
    func engineLoop() -> EventLoop { engine.anyLoop() }
}
