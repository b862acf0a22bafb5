import Foundation
import Manifest
import Testing
import TestSupport
@testable import EdgeNode

@Suite struct KeygenTests {
    @Test func writesAPrivateKeyOnlyItsOwnerCanRead() throws {
        let scratch = try TemporaryDirectory("keygen")
        defer { scratch.remove() }
        let result = try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/origin"])
        #expect(result.status == 0, "\(result.stderr)")
        let privateAttributes = try FileManager.default.attributesOfItem(atPath: scratch.path + "/origin.key")
        let publicAttributes = try FileManager.default.attributesOfItem(atPath: scratch.path + "/origin.pub")
        #expect((privateAttributes[.posixPermissions] as? Int) == 0o600)
        #expect((publicAttributes[.posixPermissions] as? Int) == 0o644)
        let signer = try KeyStore.loadSigner(path: scratch.path + "/origin.key")
        let verifier = try KeyStore.loadVerifier(path: scratch.path + "/origin.pub")
        #expect(signer.verifier == verifier)
        #expect(!result.stdout.contains(signer.encoded), "the private key is never printed")
        #expect(scratch.entries() == ["origin.key", "origin.pub"], "no temporary files left")
    }

    /// `edgenode operator keygen`: an operator's key, named for the flags it signs; the config loads it as an
    /// operator key, and refuses an origin key listed as one.
    @Test func operatorKeysAreWrittenAndLoadedFromTheFleetTable() throws {
        let scratch = try TemporaryDirectory("operator-keygen")
        defer { scratch.remove() }
        let result = try EdgeNodeBinary.run(["operator", "keygen", "--out", scratch.path + "/alice", "--name", "operator-alice"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect((try FileManager.default.attributesOfItem(atPath: scratch.path + "/alice.key")[.posixPermissions] as? Int) == 0o600)
        #expect(result.stdout.contains("operator_keys"))
        let signer = try KeyStore.loadSigner(path: scratch.path + "/alice.key")
        #expect(signer.name == "operator-alice" && !result.stdout.contains(signer.encoded))
        _ = try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/origin"])
        func config(_ keys: String) throws -> NodesConfig {
            try NodesConfig.parse("""
                [fleet]
                name = "f"
                operator_keys = [\(keys)]

                [[node]]
                name = "origin-1"
                role = "origin"
                region = "eu"
                latitude = 0
                longitude = 0
                http = "127.0.0.1:1"
                content = "c"

                [[node]]
                name = "edge-1"
                role = "edge"
                region = "eu"
                latitude = 0
                longitude = 0
                http = "127.0.0.1:2"
                content = "e"
                parents = ["origin-1"]
                origin_key = "origin.pub"
                """, path: scratch.path + "/nodes.conf", baseDirectory: scratch.path)
        }
        let loaded = try config("\"alice.pub\"")
        #expect(loaded.operatorKeys == [scratch.path + "/alice.pub"])
        #expect(try loaded.loadOperatorKeys() == [signer.verifier])
        #expect(throws: ConfigError.self, "an origin key is not an operator key") { try config("\"origin.pub\"") }
        #expect(throws: ConfigError.self, "a missing file is named") { try config("\"nope.pub\"").loadOperatorKeys() }
        #expect(try config("").operatorKeys.isEmpty)
    }

    @Test func refusesToOverwriteWithoutForce() throws {
        let scratch = try TemporaryDirectory("keygen")
        defer { scratch.remove() }
        _ = try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/origin"])
        let before = try String(contentsOfFile: scratch.path + "/origin.key", encoding: .utf8)
        let again = try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/origin"])
        #expect(again.status != 0)
        #expect(again.stderr.contains("already exists") && again.stderr.contains("--force"))
        #expect(try String(contentsOfFile: scratch.path + "/origin.key", encoding: .utf8) == before)
        let forced = try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/origin", "--force"])
        #expect(forced.status == 0)
        #expect(try String(contentsOfFile: scratch.path + "/origin.key", encoding: .utf8) != before)
    }

    @Test func refusesAPrivateKeyOthersCanRead() throws {
        let scratch = try TemporaryDirectory("keygen")
        defer { scratch.remove() }
        _ = try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/origin"])
        chmod(scratch.path + "/origin.key", 0o644)
        #expect(throws: KeyStoreError.permissionsTooOpen(path: scratch.path + "/origin.key", mode: "644")) {
            try KeyStore.loadSigner(path: scratch.path + "/origin.key")
        }
    }

    @Test func malformedKeyFilesAreClearErrors() throws {
        let scratch = try TemporaryDirectory("keygen")
        defer { scratch.remove() }
        let path = scratch.path + "/bad.pub"
        try AtomicFile.write(Data("not a key\n".utf8), to: path, mode: 0o644, replace: false)
        #expect(throws: KeyStoreError.self) { try KeyStore.loadVerifier(path: path) }
        try AtomicFile.write(Data(repeating: 0x41, count: 10_000), to: path, mode: 0o644, replace: true)
        #expect(throws: KeyStoreError.storage(.tooLarge(path, 4096))) { try KeyStore.loadVerifier(path: path) }
        #expect(throws: KeyStoreError.storage(.missing(scratch.path + "/none.pub"))) { try KeyStore.loadVerifier(path: scratch.path + "/none.pub") }
    }
}
