import Foundation
import Routing
import TOMLKit

/// Who may read a node's operator endpoints (`/metrics`, `/cluster`, the status page's data) besides loopback:
/// `nodes.conf`'s `[operators]` table.
///
/// ```toml
/// [operators]
/// allow = ["10.20.0.0/16"]          # scrapers and operators' networks, answered without a token
/// token_file = "keys/operators.token" # optional: `Authorization: Bearer <token>` opens them from anywhere (0600)
/// ```
public struct OperatorsConfig: Sendable, Equatable {
    public var allow: [IPNetwork] = []
    /// Absolute path of the bearer token's file, if any.
    public var tokenFile: String?

    public init() {}

    static func parse(_ table: TOMLTable?, path: String, base: String) throws(ConfigError) -> OperatorsConfig {
        var config = OperatorsConfig()
        guard let table else { return config }
        var reader = TableReader(table: table, path: path, location: "operators")
        try reader.allowOnly(["allow", "token_file"])
        for text in try reader.strings("allow") ?? [] {
            do {
                config.allow.append(try IPNetwork(text))
            } catch {
                throw reader.error("allow", error.description)
            }
        }
        config.tokenFile = try reader.string("token_file").map { NodesConfig.resolve($0, base: base) }
        return config
    }

    /// The access rule in force: the networks, and the token read from `tokenFile` (at least 16 bytes, without
    /// surrounding whitespace; a group- or world-readable file is refused, as for private keys).
    func access(configPath: String) throws(ConfigError) -> OperatorAccess {
        guard let tokenFile else { return OperatorAccess(allow: allow, token: nil) }
        var status = stat()
        guard stat(tokenFile, &status) == 0 else {
            throw ConfigError(file: configPath, location: "operators.token_file", message: "\(tokenFile): no such file")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw ConfigError(file: configPath, location: "operators.token_file",
                              message: "\(tokenFile) is readable by group or others (mode \(String(status.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        let data: Data
        do {
            data = try AtomicFile.read(tokenFile, limit: 4096)
        } catch {
            throw ConfigError(file: configPath, location: "operators.token_file", message: error.description)
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.utf8.count >= 16, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ConfigError(file: configPath, location: "operators.token_file",
                              message: "\(tokenFile) must hold one token of at least 16 printable characters")
        }
        return OperatorAccess(allow: allow, token: Array(token.utf8))
    }
}

/// The check of an operator endpoint's caller: loopback, an allowed network, or the bearer token.
struct OperatorAccess: Sendable {
    let allow: [IPNetwork]
    let token: [UInt8]?

    static let loopbackOnly = OperatorAccess(allow: [], token: nil)

    /// The cookie the status page's login form sets (SameSite=Strict: only this node's own pages send it).
    static let cookieName = "edgenode_operator"

    /// Whether a request from `peer` may read operator endpoints: loopback, an allowed network, or the token as
    /// `Authorization: Bearer …` or in the status page's cookie.
    func admits(peer: IPAddress?, authorization: String?, cookie: String? = nil) -> Bool {
        if let peer, peer.isLoopback || allow.contains(where: { $0.contains(peer) }) { return true }
        guard let token else { return false }
        if let authorization, authorization.utf8.count == 7 + token.count, authorization.prefix(7).lowercased() == "bearer ",
           Self.equal(authorization.utf8.dropFirst(7), token) {
            return true
        }
        for pair in (cookie ?? "").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let value = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == Self.cookieName,
               Self.equal((value.removingPercentEncoding ?? value).utf8, token) {
                return true
            }
        }
        return false
    }

    /// Equal bytes, compared in time that depends on the token's length only.
    private static func equal(_ given: some Collection<UInt8>, _ token: [UInt8]) -> Bool {
        guard given.count == token.count else { return false }
        var difference: UInt8 = 0
        for (byte, expected) in zip(given, token) { difference |= byte ^ expected }
        return difference == 0
    }
}
