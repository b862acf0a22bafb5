import Dispatch
import Foundation
import HTTPSemantics
import Logging
import Manifest
import NIOConcurrencyHelpers
import NIOCore
import Gossip

/// Why a content's manifest is not available.
enum ManifestUnavailable: Error, Equatable {
    /// The parents do not know the content (404).
    case notFound
    /// No parent answered with a manifest that verifies.
    case badGateway(String)
    /// Parents timed out.
    case gatewayTimeout(String)
}

/// The signed manifests of a caching node: held in memory, kept on disk next to the cached files (so a restart needs
/// no parent), fetched from a parent when missing and accepted only if the origin's signature verifies. After
/// `ttl` a manifest is revalidated in the background (conditionally); while revalidation fails, cached files are
/// still served and marked `STALE`. A republished content's changed files are dropped from the cache.
final class EdgeManifests: @unchecked Sendable {
    private struct Slot {
        var content: EdgeContent?
        var validatedAt: UInt64 = 0
        var stale = false
        var fetching = false
        var lastAttempt: UInt64 = 0
        var waiters: [EventLoopPromise<EdgeContent>] = []
    }

    private let root: String
    private let verifier: NoteVerifier
    private let parents: ParentPool
    private let cache: DiskCache
    private let group: EventLoopGroup
    private let ttlNanoseconds: UInt64
    private let timeout: TimeAmount
    private let metrics: EdgeMetrics
    private let logger: Logger
    private let lock = NIOLock()
    private var slots: [String: Slot] = [:]
    /// Contents the parents said do not exist, until when (uptime ns): requests for made-up ids are answered
    /// without asking a parent again for a while, and at most `maximumNegative` are remembered.
    private var absent: [String: UInt64] = [:]
    private static let absentNanoseconds: UInt64 = 10_000_000_000
    private static let maximumNegative = 10_000
    /// Set on shutdown: no fetch starts.
    private var stopped = false
    /// Verified manifests this node's disk could not store (it was full): stored as soon as it can be, since a cached
    /// object is served only beside its manifest.
    private var unstored: [String: UnstoredManifest] = [:]
    private struct UnstoredManifest {
        let data: Data
        let modified: Int64
        var reported = false
    }
    /// A failed revalidation is retried no sooner than this.
    private static let retryNanoseconds: UInt64 = 2_000_000_000

    init(root: String, verifier: NoteVerifier, parents: ParentPool, cache: DiskCache, group: EventLoopGroup,
         ttlSeconds: Int, timeout: TimeAmount, metrics: EdgeMetrics, logger: Logger) {
        self.root = root
        self.verifier = verifier
        self.parents = parents
        self.cache = cache
        self.group = group
        ttlNanoseconds = UInt64(ttlSeconds) * 1_000_000_000
        self.timeout = timeout
        self.metrics = metrics
        self.logger = logger
    }

    /// The content held in memory and whether it is stale (its last revalidation failed), or nil (no I/O). Starts a
    /// background revalidation when one is due.
    func current(_ contentID: String) -> (content: EdgeContent, stale: Bool)? {
        let (found, refresh) = lock.withLock { () -> ((EdgeContent, Bool)?, Bool) in
            guard let slot = slots[contentID], let content = slot.content else { return (nil, false) }
            return ((content, slot.stale), claimRefresh(contentID))
        }
        if refresh { revalidate(contentID) }
        return found
    }

    /// The verified manifest of `contentID`: from memory, else from disk, else from a parent.
    func content(_ contentID: String, on eventLoop: EventLoop) -> EventLoopFuture<EdgeContent> {
        do {
            try ContentManifest.validateIdentifier(contentID, field: "content id")
        } catch {
            return eventLoop.makeFailedFuture(ManifestUnavailable.notFound)
        }
        if let (content, _) = current(contentID) {
            storeIfPending(contentID)
            return eventLoop.makeSucceededFuture(content)
        }
        let promise = eventLoop.makePromise(of: EdgeContent.self)
        let now = DispatchTime.now().uptimeNanoseconds
        let first = lock.withLock { () -> Bool? in
            if let until = absent[contentID] {
                if now < until { return nil }
                absent[contentID] = nil
            }
            slots[contentID, default: Slot()].waiters.append(promise)
            if slots[contentID]!.fetching { return false }
            slots[contentID]!.fetching = true
            return true
        }
        guard let first else {
            promise.fail(ManifestUnavailable.notFound)
            return promise.futureResult
        }
        if first {
            if let content = loadFromDisk(contentID) {
                // Served at once; checked with a parent in the background, as its age is unknown.
                complete(contentID, .success(content), validated: false)
            } else {
                fetch(contentID, previous: nil)
            }
        }
        return promise.futureResult
    }

    /// Claims the revalidation of a content whose manifest is due; called with the lock held.
    private func claimRefresh(_ contentID: String) -> Bool {
        guard var slot = slots[contentID], !slot.fetching else { return false }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now.elapsed(since: slot.validatedAt) >= ttlNanoseconds, now.elapsed(since: slot.lastAttempt) >= Self.retryNanoseconds else { return false }
        slot.fetching = true
        slot.lastAttempt = now
        slots[contentID] = slot
        return true
    }

    private func revalidate(_ contentID: String) {
        let previous = lock.withLock { slots[contentID]?.content }
        fetch(contentID, previous: previous)
    }

    private func loadFromDisk(_ contentID: String) -> EdgeContent? {
        let path = "\(root)/\(contentID)/manifest.json"
        guard let data = try? AtomicFile.read(path, limit: ContentManifest.maximumSize),
              let manifest = try? ContentManifest.parse(data), manifest.contentID == contentID,
              let verified = try? VerifiedManifest(manifest, verifier: verifier),
              let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let modified = attributes[.modificationDate] as? Date else {
            return nil
        }
        return EdgeContent(verified: verified, lastModified: Int64(modified.timeIntervalSince1970), manifestETag: nil)
    }

    private func complete(_ contentID: String, _ result: Result<EdgeContent, ManifestUnavailable>, validated: Bool) {
        let waiters = lock.withLock { () -> [EventLoopPromise<EdgeContent>] in
            var slot = slots[contentID] ?? Slot()
            slot.fetching = false
            switch result {
            case .success(let content):
                slot.content = content
                slot.stale = false
                slot.validatedAt = validated ? DispatchTime.now().uptimeNanoseconds : 0
            case .failure(let error):
                // A cached manifest keeps being served; it is stale until a revalidation succeeds.
                if slot.content != nil { slot.stale = true }
                if error == .notFound && slot.content == nil {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if absent.count >= Self.maximumNegative { absent = absent.filter { $0.value > now } }
                    if absent.count < Self.maximumNegative { absent[contentID] = now + Self.absentNanoseconds }
                }
            }
            let waiters = slot.waiters
            slot.waiters = []
            slots[contentID] = slot.content == nil && waiters.isEmpty ? nil : slot
            return waiters
        }
        for waiter in waiters {
            switch result {
            case .success(let content): waiter.succeed(content)
            case .failure(let error): waiter.fail(error)
            }
        }
    }

    /// Shutdown: later fetches are not started (their event loops are going away).
    func stop() { lock.withLock { stopped = true } }

    /// Asks the parents in turn for the manifest (conditionally when one is held) and keeps the first that verifies.
    private func fetch(_ contentID: String, previous: EdgeContent?) {
        guard !lock.withLock({ stopped }) else { return }
        let eventLoop = group.next()
        eventLoop.execute {
            self.attempt(contentID, previous: previous, remaining: self.parents.order()[...], failures: [], eventLoop: eventLoop)
        }
    }

    private func attempt(_ contentID: String, previous: EdgeContent?, remaining: ArraySlice<ParentAddress>,
                         failures: [ParentFetchError], eventLoop: EventLoop) {
        guard let parent = remaining.first else {
            let summary = failures.map(\.description).joined(separator: "; ")
            let outcome: ManifestUnavailable = failures.contains(.status(404)) ? .notFound
                : failures.contains(.timeout) ? .gatewayTimeout(summary) : .badGateway(summary)
            if previous != nil {
                logger.warning("manifest revalidation failed; serving cached files as stale", metadata: [
                    "content": "\(contentID)", "errors": "\(summary)"])
            }
            complete(contentID, .failure(outcome), validated: false)
            return
        }
        // A manifest is at most 64 MiB: four read timeouts is plenty, and bounds a parent that trickles.
        var request = ParentFetch.Request(path: "/\(contentID)/manifest.json", range: nil, deadline: timeout * 4)
        if let etag = previous?.manifestETag { request.extraHeaders.append(("If-None-Match", etag)) }
        var status = 0
        var lastModified: Int64?
        var etag: String?
        var body = ByteBuffer()
        metrics.requested(from: parent.name, kind: .manifest)
        ParentFetch.start(on: eventLoop, parent: parent, request: request, identity: parents.identity, timeout: timeout,
            onHead: { head in
                status = Int(head.status.code)
                lastModified = head.headers.first(name: "Last-Modified").flatMap { HTTPDate.parse(Substring($0)) }
                etag = head.headers.first(name: "ETag")
                return status == 200 || (status == 304 && previous != nil)
            },
            onBody: { buffer in
                var buffer = buffer
                guard body.readableBytes + buffer.readableBytes <= ContentManifest.maximumSize else { return false }
                body.writeBuffer(&buffer)
                return true
            },
            onEnd: { error in
                let next = remaining.dropFirst()
                var failure: ParentFetchError? = error
                if error == .aborted { failure = status == 200 || status == 304 ? .tooLarge : .status(status) }
                if let failure {
                    if failure.marksParentBad {
                        self.parents.failed(parent, path: "/\(contentID)/manifest.json", reason: failure.metricReason, detail: failure.description)
                    }
                    self.attempt(contentID, previous: previous, remaining: next, failures: failures + [failure], eventLoop: eventLoop)
                    return
                }
                if status == 304, let previous {
                    self.parents.succeeded(parent)
                    self.complete(contentID, .success(previous), validated: true)
                    return
                }
                do {
                    let content = try self.accept(contentID, data: Data(body.readableBytesView), lastModified: lastModified, etag: etag,
                                                  previous: previous)
                    self.parents.succeeded(parent)
                    self.complete(contentID, .success(content), validated: true)
                } catch {
                    self.parents.failed(parent, path: "/\(contentID)/manifest.json", reason: "signature", detail: "\(error)")
                    self.attempt(contentID, previous: previous, remaining: next,
                                 failures: failures + [.unexpected("manifest rejected: \(error)")], eventLoop: eventLoop)
                }
            })
    }

    /// Verifies a manifest from a parent, stores it, and drops cached files it no longer lists with the same bytes.
    private func accept(_ contentID: String, data: Data, lastModified: Int64?, etag: String?, previous: EdgeContent?) throws -> EdgeContent {
        let manifest = try ContentManifest.parse(data)
        guard manifest.contentID == contentID else {
            throw ManifestError.checkpointMismatch("manifest is for content \"\(manifest.contentID)\", not \"\(contentID)\"")
        }
        let verified = try VerifiedManifest(manifest, verifier: verifier)
        let modified = lastModified ?? Int64(Date().timeIntervalSince1970)
        lock.withLock { unstored[contentID] = UnstoredManifest(data: data, modified: modified) }
        storeIfPending(contentID)
        if let previous, previous.verified.checkpoint.root != verified.checkpoint.root {
            let current = Dictionary(manifest.files.map { ($0.path, $0.chunkRoot) }, uniquingKeysWith: { first, _ in first })
            for file in previous.verified.manifest.files where current[file.path] != file.chunkRoot {
                cache.remove("\(contentID)/\(file.path)")
            }
            logger.notice("content republished", metadata: ["content": "\(contentID)", "root": "\(verified.checkpoint.root.hex)"])
        }
        return EdgeContent(verified: verified, lastModified: modified, manifestETag: etag)
    }

    /// Writes a verified manifest the disk could not take before; a failure is counted and logged once per manifest.
    private func storeIfPending(_ contentID: String) {
        guard let pending = lock.withLock({ unstored[contentID] }) else { return }
        do {
            try FileManager.default.createDirectory(atPath: "\(root)/\(contentID)", withIntermediateDirectories: true)
            try AtomicFile.write(pending.data, to: "\(root)/\(contentID)/manifest.json", mode: 0o644, replace: true, modified: pending.modified)
            lock.withLock { if unstored[contentID]?.data == pending.data { unstored[contentID] = nil } }
        } catch {
            // This node's disk (full, read-only): the parent delivered a good manifest, which serves from memory.
            let first = lock.withLock { () -> Bool in
                guard unstored[contentID]?.data == pending.data, unstored[contentID]?.reported == false else { return false }
                unstored[contentID]?.reported = true
                return true
            }
            if first {
                metrics.cacheWriteFailures.increment()
                logger.error("cannot store a verified manifest on this node's disk; serving it from memory", metadata: [
                    "content": "\(contentID)", "error": "\(error)"])
            }
        }
    }
}
