import Crypto
import Foundation
import Metrics
import NIOCore
import NIOHTTP1
import Royalty
import Synchronization

/// Counts what this node delivers to viewers (the data plane calls `delivered` for each media segment response), with
/// no raw client address kept: a viewer session is the salted SHA-256 of (address, User-Agent, content), the salt
/// derived per period (hour) from the fleet's secret — every node derives the same one, so the origin can count a
/// viewer served by several nodes once; nobody without the secret can link a key to an address, and keys of different
/// hours cannot be linked to each other.
final class ViewRecorder: Sendable {
    let node: String
    let settings: ViewCounter.Settings
    private let secret: SymmetricKey
    private let counter: Mutex<ViewCounter>
    /// The salt of the period last used, and that period.
    private let salt = Mutex<(period: Int64, key: SymmetricKey)?>(nil)
    /// Set when a session became a view since the last save: the reporter saves at once, so a kill loses no view.
    private let viewsUnsaved = Atomic<Bool>(false)
    /// Whether a request comes from a fleet node (a fill, not a viewer).
    private let isFleetRequest: @Sendable (HTTPRequestHead) -> Bool
    private let refused = Counter(label: "edgenode_view_sessions_refused_total")

    init(node: String, secret: [UInt8], settings: ViewCounter.Settings, isFleetRequest: @escaping @Sendable (HTTPRequestHead) -> Bool) {
        self.node = node
        self.settings = settings
        self.secret = SymmetricKey(data: secret)
        self.isFleetRequest = isFleetRequest
        counter = Mutex(ViewCounter(settings: settings))
    }

    /// A viewer at `peer` who sent `request` received `bytes` of `media`, a segment of `size` bytes: the media time
    /// credited is the segment's duration in proportion to the bytes delivered (a one-byte range of a 2 s segment
    /// is worth nothing like 2 s).
    func delivered(peer: SocketAddress?, request: HTTPRequestHead, media: MediaSegment, bytes: UInt64, of size: UInt64,
                   now: Int64 = Int64(Date().timeIntervalSince1970)) {
        guard !isFleetRequest(request) else { return }
        let salt = periodSalt(now)
        let key = sessionKey(peer: peer, userAgent: request.headers.first(name: "user-agent") ?? "", content: media.content, salt: salt)
        let address = addressKey(peer: peer, content: media.content, salt: salt)
        let milliseconds = media.milliseconds(delivering: bytes, of: size)
        let (becameView, newlyRefused) = counter.withLock { counter in
            let before = counter.refusedSessions
            let became = counter.delivered(session: key, address: address, content: media.content, segment: media.segment,
                                           mediaMilliseconds: milliseconds, ofSegment: media.milliseconds, bytes: bytes, now: now)
            return (became, counter.refusedSessions - before)
        }
        if newlyRefused > 0 { refused.increment(by: Int(newlyRefused)) }
        if becameView { viewsUnsaved.store(true, ordering: .relaxed) }
    }

    /// Whether a session became a view since this was last asked (and clears it).
    func takeUnsavedViews() -> Bool { viewsUnsaved.exchange(false, ordering: .relaxed) }

    /// The salted session key: SHA-256(period salt ‖ address ‖ 0 ‖ User-Agent ‖ 0 ‖ content), its first 128 bits.
    func sessionKey(peer: SocketAddress?, userAgent: String, content: String, salt: SymmetricKey) -> SessionKey {
        var hasher = SHA256()
        salt.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        hasher.update(data: Self.addressBytes(peer))
        hasher.update(data: [0])
        hasher.update(data: Array(userAgent.utf8.prefix(512)))
        hasher.update(data: [0])
        hasher.update(data: Array(content.utf8))
        return Self.key(hasher)
    }

    /// The salted key of a client's address (an IPv6 address by its /64: one subscriber's prefix) for `content`:
    /// SHA-256(period salt ‖ "address" ‖ 0 ‖ address ‖ 0 ‖ content), its first 128 bits. It bounds how many sessions
    /// one address earns media time with, whatever User-Agents it sends.
    func addressKey(peer: SocketAddress?, content: String, salt: SymmetricKey) -> SessionKey {
        var hasher = SHA256()
        salt.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        hasher.update(data: Array("address".utf8) + [0])
        hasher.update(data: Self.subscriberBytes(peer))
        hasher.update(data: [0])
        hasher.update(data: Array(content.utf8))
        return Self.key(hasher)
    }

    /// The bytes that name one subscriber: an IPv4 address whole (also as an IPv4-mapped IPv6 address, as a
    /// dual-stack listener sees IPv4 clients), an IPv6 address by its /64.
    static func subscriberBytes(_ peer: SocketAddress?) -> [UInt8] {
        let bytes = addressBytes(peer)
        guard case .v6? = peer, bytes.count == 16 else { return bytes }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
        return Array(bytes.prefix(8))
    }

    /// The salt of the period `now` (Unix seconds) falls in, derived once per period from the fleet's secret.
    private func periodSalt(_ now: Int64) -> SymmetricKey {
        let period = counter.withLock { $0.period(of: now) }
        return salt.withLock { held -> SymmetricKey in
            if let held, held.period == period { return held.key }
            let derived = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array("edgenode.views.salt/\(period)".utf8), using: secret))
            held = (period, derived)
            return derived
        }
    }

    private static func key(_ hasher: SHA256) -> SessionKey {
        let digest = Array(hasher.finalize())
        let high = digest[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = digest[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return SessionKey(high: high, low: low)
    }

    private static func addressBytes(_ peer: SocketAddress?) -> [UInt8] {
        switch peer {
        case .v4(let address)?:
            return withUnsafeBytes(of: address.address.sin_addr.s_addr) { Array($0) }
        case .v6(let address)?:
            return withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
        default:
            return Array((peer?.description ?? "").utf8)
        }
    }

    /// Open periods so far, as reports (for the spool).
    func snapshot() -> [DeliveryReport] {
        counter.withLock { $0.snapshot() }.map { DeliveryReport(node: node, periodSeconds: settings.periodSeconds, $0) }
    }

    /// Periods closed at `now`, as reports.
    func close(now: Int64) -> [DeliveryReport] {
        counter.withLock { $0.closePeriods(now: now) }.map { DeliveryReport(node: node, periodSeconds: settings.periodSeconds, $0) }
    }

    /// Takes back saved open periods after a restart.
    func restore(_ reports: [DeliveryReport]) {
        counter.withLock { counter in
            for report in reports { counter.restore(report.counterReport) }
        }
    }

    /// Live sessions and those finished early for lack of room.
    var sessions: (live: Int, evicted: UInt64) { counter.withLock { ($0.liveSessions, $0.evictedSessions) } }
}

/// A response's delivery to a viewer, counted when its last byte has been written.
struct PendingView: Sendable {
    let peer: SocketAddress?
    let request: HTTPRequestHead
    let media: MediaSegment
    let bytes: UInt64
    let size: UInt64
}
