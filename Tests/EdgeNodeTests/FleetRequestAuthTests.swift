import NIOCore
import Gossip
import NIOHTTP1
import Testing
@testable import EdgeNode

/// The proof that a request comes from a fleet node (issue 24, 8): only a holder of the fleet keyring can make one,
/// for one path, within the allowed age; `Via` plays no part. Every limit is tried from both sides.
@Suite struct FleetRequestAuthTests {
    static let key = try! Keyring.Key(Array(repeating: 7, count: 32))
    static let other = try! Keyring.Key(Array(repeating: 9, count: 32))
    static let nodes: Set<String> = ["edge-1", "mesh-1"]
    static let now: Int64 = 1_800_000_000

    static func headers(_ value: String) -> HTTPHeaders { HTTPHeaders([(FleetRequestAuth.field, value)]) }

    @Test func aProofNamesItsNodeForItsPathOnly() {
        let auth = FleetRequestAuth(keyring: Keyring(primary: Self.key), nodes: Self.nodes)
        let proof = auth.proof(node: "edge-1", path: "/clip/seg_00001.ts", now: Self.now)
        #expect(auth.sender(of: Self.headers(proof), path: "/clip/seg_00001.ts", now: Self.now) == "edge-1")
        #expect(auth.sender(of: Self.headers(proof), path: "/clip/seg_00002.ts", now: Self.now) == nil, "another path")
        #expect(auth.sender(of: HTTPHeaders([("Via", "1.1 edge-1")]), path: "/clip/seg_00001.ts", now: Self.now) == nil, "Via is no proof")
        let unknown = auth.proof(node: "edge-9", path: "/p", now: Self.now)
        #expect(auth.sender(of: Self.headers(unknown), path: "/p", now: Self.now) == nil, "a node not in nodes.conf")
        let renamed = proof.replacingOccurrences(of: "edge-1", with: "mesh-1")
        #expect(auth.sender(of: Self.headers(renamed), path: "/clip/seg_00001.ts", now: Self.now) == nil, "the name is signed")
    }

    @Test func theAgeLimitHoldsFromBothSides() {
        let auth = FleetRequestAuth(keyring: Keyring(primary: Self.key), nodes: Self.nodes)
        let limit = FleetRequestAuth.maximumAgeSeconds
        for (made, accepted) in [(Self.now - limit, true), (Self.now - limit - 1, false), (Self.now + limit, true), (Self.now + limit + 1, false)] {
            let proof = auth.proof(node: "edge-1", path: "/p", now: made)
            #expect((auth.sender(of: Self.headers(proof), path: "/p", now: Self.now) != nil) == accepted, "made at \(made - Self.now) s")
        }
    }

    @Test func aRotatedKeyringStillAcceptsTheOldKeyAndOutsidersGetNothing() {
        let before = FleetRequestAuth(keyring: Keyring(primary: Self.key), nodes: Self.nodes)
        let during = FleetRequestAuth(keyring: Keyring(primary: Self.other, others: [Self.key]), nodes: Self.nodes)
        let outsider = FleetRequestAuth(keyring: Keyring(primary: Self.other), nodes: Self.nodes)
        let old = before.proof(node: "mesh-1", path: "/p", now: Self.now)
        #expect(during.sender(of: Self.headers(old), path: "/p", now: Self.now) == "mesh-1")
        #expect(before.sender(of: Self.headers(during.proof(node: "mesh-1", path: "/p", now: Self.now)), path: "/p", now: Self.now) == nil)
        #expect(before.sender(of: Self.headers(outsider.proof(node: "mesh-1", path: "/p", now: Self.now)), path: "/p", now: Self.now) == nil)
    }

    /// Hostile field values: none traps, none is accepted.
    @Test(arguments: ["", "v1", "v1 edge-1", "v1 edge-1 1800000000", "v2 edge-1 1800000000 x", "v1 edge-1 -9223372036854775808 x",
                      "v1 edge-1 9223372036854775807 x", "v1 edge-1 99999999999999999999 x", "v1 edge-1 1800000000 x y",
                      "v1  1800000000 x", String(repeating: "a", count: 10_000)])
    func hostileValuesAreRefused(value: String) {
        let auth = FleetRequestAuth(keyring: Keyring(primary: Self.key), nodes: Self.nodes)
        #expect(auth.sender(of: Self.headers(value), path: "/p", now: Self.now) == nil)
        #expect(auth.sender(of: Self.headers(value), path: "/p", now: .min) == nil)
        #expect(auth.sender(of: Self.headers(value), path: "/p", now: .max) == nil)
    }

    /// Issue 24 (14): media time follows the bytes delivered, not the touch of a segment.
    @Test func mediaTimeIsInProportionToTheBytes() {
        let media = MediaSegment(content: "clip", segment: 1, milliseconds: 2_000)
        #expect(media.milliseconds(delivering: 1, of: 1_000_000) == 0)
        #expect(media.milliseconds(delivering: 500_000, of: 1_000_000) == 1_000)
        #expect(media.milliseconds(delivering: 1_000_000, of: 1_000_000) == 2_000)
        #expect(media.milliseconds(delivering: 2_000_000, of: 1_000_000) == 2_000, "never more than the segment")
        #expect(media.milliseconds(delivering: 0, of: 0) == 0)
        let long = MediaSegment(content: "clip", segment: 1, milliseconds: .max)
        #expect(long.milliseconds(delivering: .max - 1, of: .max) == UInt32.max - 1, "no overflow in the product")
    }
}

/// The hostile run after issue 24: a dual-stack listener sees IPv4 clients as IPv4-mapped IPv6 addresses, whose
/// first 64 bits are all zero — every IPv4 viewer shared one address's view bound.
@Suite struct SubscriberAddressTests {
    @Test func ipv4MappedAddressesAreTheirIPv4AndIPv6GoesBy64() throws {
        let v4 = try SocketAddress(ipAddress: "127.0.56.1", port: 1)
        let mapped = try SocketAddress(ipAddress: "::ffff:127.0.56.1", port: 2)
        let otherMapped = try SocketAddress(ipAddress: "::ffff:127.0.56.2", port: 2)
        #expect(ViewRecorder.subscriberBytes(v4) == [127, 0, 56, 1])
        #expect(ViewRecorder.subscriberBytes(mapped) == [127, 0, 56, 1])
        #expect(ViewRecorder.subscriberBytes(otherMapped) != ViewRecorder.subscriberBytes(mapped))
        let a = try SocketAddress(ipAddress: "2001:db8:1:2::1", port: 1), b = try SocketAddress(ipAddress: "2001:db8:1:2:ffff::9", port: 1)
        let c = try SocketAddress(ipAddress: "2001:db8:1:3::1", port: 1)
        #expect(ViewRecorder.subscriberBytes(a) == ViewRecorder.subscriberBytes(b), "one /64, one subscriber")
        #expect(ViewRecorder.subscriberBytes(a) != ViewRecorder.subscriberBytes(c))
    }
}
