import Foundation
import Testing
import TestSupport

/// `edgenode emergency` when nothing answers or the arguments are wrong: precise messages and the documented exit
/// statuses (2 for arguments and keys, 1 when no node took or answered), never a flag signed blind.
@Suite struct EmergencyCommandTests {
    @Test func argumentErrorsExitTwoAndUnreachableNodesExitOne() throws {
        let scratch = try TemporaryDirectory("emergency-cli")
        defer { scratch.remove() }
        _ = try EdgeNodeBinary.run(["operator", "keygen", "--out", scratch.path + "/alice", "--name", "alice"])
        // Nothing listens on these: a port from the discard range on addresses no test uses.
        try """
            [fleet]
            name = "f"
            operator_keys = ["alice.pub"]

            [[node]]
            name = "origin-1"
            role = "origin"
            region = "eu"
            latitude = 0
            longitude = 0
            http = "127.0.0.1:9"
            content = "c"

            [[node]]
            name = "mesh-1"
            role = "mesh"
            region = "eu"
            latitude = 0
            longitude = 0
            http = "127.0.0.2:9"
            content = "m"
            parents = ["origin-1"]
            origin_key = "origin.pub"
            """.write(toFile: scratch.path + "/nodes.conf", atomically: true, encoding: .utf8)
        let config = ["--config", scratch.path + "/nodes.conf"]
        let key = ["--key", scratch.path + "/alice.key"]

        let unknown = try EdgeNodeBinary.run(["emergency", "on", "--reason", "r", "--node", "nope"] + key + config)
        #expect(unknown.status == 2 && unknown.stderr.contains("no node named \"nope\""), "\(unknown.stderr)")
        let missingKey = try EdgeNodeBinary.run(["emergency", "on", "--reason", "r", "--key", scratch.path + "/none.key"] + config)
        #expect(missingKey.status == 2 && missingKey.stderr.contains("none.key"), "\(missingKey.stderr)")
        let missingConfig = try EdgeNodeBinary.run(["emergency", "status", "--config", scratch.path + "/nope.conf"])
        #expect(missingConfig.status == 2, "\(missingConfig.stderr)")

        let blind = try EdgeNodeBinary.run(["emergency", "on", "--reason", "r", "--timeout", "1"] + key + config)
        #expect(blind.status == 1 && blind.stderr.contains("no node of") && blind.stderr.contains("the current epoch is unknown"),
                "\(blind.stderr)")
        #expect(blind.stderr.contains("origin-1: connection refused") && blind.stderr.contains("mesh-1: connection refused"))
        let status = try EdgeNodeBinary.run(["emergency", "status", "--timeout", "1"] + config)
        #expect(status.status == 1 && status.stdout.contains("origin-1") && status.stdout.contains("unreachable"), "\(status.stdout)")
    }
}
