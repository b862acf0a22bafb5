import ArgumentParser
import Control
import EdgeNode
import Foundation
import LedgerStore
import Manifest

/// `edgenode token`: bearer tokens of the control API. Only a token's SHA-256 digest is stored.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke control API tokens.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it once (store it: only its digest is kept).",
            discussion: "Scopes: admin | artist:ID (read-only, own accounts and receipts) | node:NAME (posts its own delivery reports, nothing else).")

        @OptionGroup var database: LedgerDatabaseOption

        @Option(name: .long, help: "admin, artist:ID or node:NAME.")
        var scope: String

        @Option(name: .long, help: "A note saying whose token this is.")
        var label = ""

        @Option(name: .long, help: "Also write the token to this file (mode 0600).")
        var out: String?

        func run() throws {
            try reportingErrors {
                guard let parsed = Scope(scope) else { throw ValidationError("--scope must be admin, artist:ID or node:NAME (got \"\(scope)\")") }
                guard label.utf8.count <= 128, !label.contains(where: \.isNewline) else { throw ValidationError("--label must be one line of at most 128 bytes") }
                let store = try LedgerStore(path: try database.path(), verifier: nil)
                let token = BearerToken.generate()
                try store.addToken(digest: BearerToken.digest(token), scope: parsed.description, label: label,
                                   at: Int64(Date().timeIntervalSince1970 * 1000))
                if let out {
                    try AtomicFile.write(Data((token + "\n").utf8), to: out, mode: 0o600, replace: false)
                    printWarning("token for \(parsed) written to \(out)")
                } else {
                    print(token)
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens: digest prefix, scope, label, created, revoked.")

        @OptionGroup var database: LedgerDatabaseOption

        func run() throws {
            try reportingErrors {
                let store = try LedgerStore(path: try database.path(), verifier: nil)
                for record in try store.tokens() {
                    let state = record.revokedAt.map { "revoked \(Self.date($0))" } ?? "active"
                    print("\(Hex.encode(Array(record.digest.prefix(6))))  \(record.scope)  \(state)  created \(Self.date(record.createdAt))  \(record.label)")
                }
            }
        }

        static func date(_ milliseconds: Int64) -> String {
            ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke the token whose digest starts with the given hex (from `token list`).")

        @OptionGroup var database: LedgerDatabaseOption

        @Argument(help: "At least 8 hex digits of the token's digest.")
        var digest: String

        func run() throws {
            try reportingErrors {
                guard digest.count >= 8, digest.count % 2 == 0, let prefix = Hex.decode(digest.lowercased()) else {
                    throw ValidationError("the digest prefix must be an even number (≥ 8) of hex digits")
                }
                let store = try LedgerStore(path: try database.path(), verifier: nil)
                let count = try store.revokeTokens(digestPrefix: prefix, at: Int64(Date().timeIntervalSince1970 * 1000))
                guard count > 0 else { throw ValidationError("no active token's digest starts with \(digest)") }
                guard count == 1 else { throw ValidationError("\(count) active tokens match \(digest); nothing revoked — give more digits") }
                print("revoked 1 token")
            }
        }
    }
}
