import Foundation
import Testing
import TestSupport
@testable import EdgeNode

/// `edgenode gossip-key`: the rotation a fleet goes through, on a real keyring file.
@Suite struct GossipKeyTests {
    static func ids(_ keyring: String) throws -> [String] {
        try EdgeNodeBinary.run(["gossip-key", "list", "--keyring", keyring]).stdout.split(separator: "\n").map { String($0.prefix(8)) }
    }

    @Test func installUseRemoveRotatesTheKey() throws {
        let scratch = try TemporaryDirectory("gossip-key")
        defer { scratch.remove() }
        let keyring = scratch.path + "/gossip.keyring"
        #expect(try EdgeNodeBinary.run(["gossip-key", "generate", "--keyring", keyring]).status == 0)
        var info = stat()
        #expect(stat(keyring, &info) == 0 && info.st_mode & 0o777 == 0o600, "a secret: 0600")
        #expect(try EdgeNodeBinary.run(["gossip-key", "generate", "--keyring", keyring]).status == 1, "never overwritten")
        let old = try Self.ids(keyring)
        let newKey = try EdgeNodeBinary.run(["gossip-key", "generate"]).stdout
        #expect(Data(base64Encoded: newKey.trimmingCharacters(in: .whitespacesAndNewlines))?.count == 32)
        let installed = try EdgeNodeBinary.run(["gossip-key", "install", "--keyring", keyring], input: Data(newKey.utf8))
        #expect(installed.status == 0, "\(installed.stderr)")
        let both = try Self.ids(keyring)
        #expect(both.count == 2 && both[0] == old[0], "the old key stays primary until `use`")
        let refused = try EdgeNodeBinary.run(["gossip-key", "remove", "--keyring", keyring, "--id", old[0]])
        #expect(refused.status == 1 && refused.stderr.contains("primary key cannot be removed"))
        #expect(try EdgeNodeBinary.run(["gossip-key", "use", "--keyring", keyring, "--id", both[1]]).status == 0)
        #expect(try EdgeNodeBinary.run(["gossip-key", "remove", "--keyring", keyring, "--id", old[0]]).status == 0)
        #expect(try Self.ids(keyring) == [both[1]])
        #expect(try KeyringFile.load(keyring).primary.bytes == Array(Data(base64Encoded: newKey.trimmingCharacters(in: .whitespacesAndNewlines))!))
    }

    @Test func badKeysAndOpenPermissionsAreRefused() throws {
        let scratch = try TemporaryDirectory("gossip-key")
        defer { scratch.remove() }
        let keyring = scratch.path + "/gossip.keyring"
        _ = try EdgeNodeBinary.run(["gossip-key", "generate", "--keyring", keyring])
        let short = try EdgeNodeBinary.run(["gossip-key", "install", "--keyring", keyring], input: Data("AAAA\n".utf8))
        #expect(short.status == 1 && short.stderr.contains("32 bytes"))
        let none = try EdgeNodeBinary.run(["gossip-key", "install", "--keyring", keyring])
        #expect(none.status == 2 && none.stderr.contains("standard input"))
        #expect(try EdgeNodeBinary.run(["gossip-key", "use", "--keyring", keyring, "--id", "deadbeef"]).stderr.contains("not installed"))
        chmod(keyring, 0o644)
        let open = try EdgeNodeBinary.run(["gossip-key", "list", "--keyring", keyring])
        #expect(open.status == 1 && open.stderr.contains("too open"))
    }
}
