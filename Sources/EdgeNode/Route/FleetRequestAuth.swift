import Crypto
import Foundation
import Gossip
import NIOHTTP1

/// Proof that a request comes from a node of the fleet — a fill, which is never redirected and never counted as a
/// view — that a viewer cannot forge: `Edgenode-Fleet: v1 NODE SECONDS MAC`, where MAC is the base64url HMAC-SHA256
/// of `NODE`, `SECONDS` and the request path under a key derived from the fleet's gossip keyring (every key of the
/// keyring verifies, the primary one signs, so a rotation never breaks fills). A proof is good for
/// `maximumAgeSeconds` either side of the receiver's clock and for its path only. `Via` is informative and never
/// trusted.
struct FleetRequestAuth: Sendable {
    /// The request field that carries the proof.
    static let field = "Edgenode-Fleet"
    /// How far a proof's time may be from the receiver's clock.
    static let maximumAgeSeconds: Int64 = 300
    /// Longest field value accepted (a longer one is not parsed).
    static let maximumFieldBytes = 256

    private let keys: [SymmetricKey]
    /// The fleet's node names (`nodes.conf`): only they can be senders.
    private let nodes: Set<String>

    /// Keys derived from every key of the fleet's keyring, the primary first; `nodes` are the fleet's node names.
    init(keyring: Keyring, nodes: Set<String>) {
        self.nodes = nodes
        keys = keyring.keys.map { key in
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array("edgenode.fleet-request/v1".utf8), using: SymmetricKey(data: key.bytes)))
        }
        precondition(!keys.isEmpty)
    }

    /// The field value for a request of `path` by `node` at `now` (Unix seconds).
    func proof(node: String, path: String, now: Int64) -> String {
        "v1 \(node) \(now) " + Self.mac(node: node, seconds: String(now), path: path, key: keys[0])
    }

    /// The fleet node that sent a request for `path` with `headers`, when it carries a valid proof at `now` from a
    /// node of the fleet; nil for anyone else.
    func sender(of headers: HTTPHeaders, path: String, now: Int64) -> String? {
        guard let value = headers.first(name: Self.field), value.utf8.count <= Self.maximumFieldBytes else { return nil }
        let parts = value.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let seconds = Int64(parts[2]), parts[2].utf8.count <= 19 else { return nil }
        let (age, overflow) = now.subtractingReportingOverflow(seconds)
        guard !overflow, age.magnitude <= UInt64(Self.maximumAgeSeconds) else { return nil }
        let node = String(parts[1])
        guard nodes.contains(node) else { return nil }
        let presented = Array(parts[3].utf8)
        for key in keys where Self.constantTimeEqual(Array(Self.mac(node: node, seconds: String(parts[2]), path: path, key: key).utf8), presented) {
            return node
        }
        return nil
    }

    private static func mac(node: String, seconds: String, path: String, key: SymmetricKey) -> String {
        let message = Array("\(node)\n\(seconds)\n\(path)".utf8)
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: key)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Who a node's requests to its parents say they come from: `Via` names it (for logs), the fleet proof makes it
/// trusted (nil without a fleet keyring: the node's parents then serve it as a viewer, which they do anyway).
struct FleetIdentity: Sendable {
    let node: String
    let proof: @Sendable (_ path: String) -> String?

    init(node: String, proof: @escaping @Sendable (_ path: String) -> String? = { _ in nil }) {
        self.node = node
        self.proof = proof
    }
}
