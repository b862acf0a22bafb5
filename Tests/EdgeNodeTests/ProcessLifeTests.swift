import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Start-up failures end the process promptly with a message naming the address and the reason, whichever service
/// fails while the others are already running; a second process for the same node cannot start.
@Suite struct ProcessLifeTests {
    /// An origin with gossip and the control module, every address on `host`.
    static func fleet(host: String, directory: TemporaryDirectory) throws -> String {
        let keyring = directory.path + "/gossip.keyring"
        let generated = try EdgeNodeBinary.run(["gossip-key", "generate", "--keyring", keyring])
        guard generated.status == 0 else { throw FixtureError(message: generated.stderr) }
        let key = try EdgeNodeBinary.run(["keygen", "--out", directory.path + "/origin"])
        guard key.status == 0 else { throw FixtureError(message: key.stderr) }
        try FileManager.default.createDirectory(atPath: directory.path + "/content", withIntermediateDirectories: true)
        let text = """
            [fleet]
            name = "life"
            gossip_keyring = "\(keyring)"
            [[node]]
            name = "origin-1"
            role = "origin"
            region = "r"
            latitude = 1.0
            longitude = 2.0
            http = "\(host):18300"
            gossip = "\(host):17300"
            control = "\(host):19300"
            content = "\(directory.path)/content"
            ledger_db = "\(directory.path)/ledger/ledger.sqlite"
            signing_key = "\(directory.path)/origin.key"
            origin_key = "\(directory.path)/origin.pub"
            threads = 1
            """
        let config = directory.path + "/nodes.conf"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    /// A socket of `type` bound (and, for TCP, listening) on `host:port`, held until closed.
    static func occupy(_ host: String, _ port: Int, type: Int32) throws -> Int32 {
        let fd = socket(AF_INET, type, 0)
        let bound = IPv4Address.with(host, port) { bind(fd, $0, $1) }
        guard bound == 0 else { throw FixtureError(message: "bind \(host):\(port): \(String(cString: strerror(errno)))") }
        if type == Int32(SOCK_STREAM.rawValue) { listen(fd, 1) }
        return fd
    }

    @Test(arguments: [("HTTP", 18_300, Int32(SOCK_STREAM.rawValue)), ("gossip", 17_300, Int32(SOCK_DGRAM.rawValue)),
                      ("control", 19_300, Int32(SOCK_STREAM.rawValue))])
    func aTakenPortEndsTheNodePromptlyWithTheReason(service: String, port: Int, type: Int32) throws {
        let directory = try TemporaryDirectory("life")
        defer { directory.remove() }
        let host = LoopbackAddress.next()
        let config = try Self.fleet(host: host, directory: directory)
        let holder = try Self.occupy(host, port, type: type)
        defer { close(holder) }
        let started = Date()
        let result = try ProcessRunner.run(EdgeNodeBinary.path, ["serve", "--config", config, "--node", "origin-1"], timeout: 20)
        let seconds = Date().timeIntervalSince(started)
        #expect(result.status == 1 && seconds < 10, "\(service): exit \(result.status) after \(seconds) s: \(result.stderr)")
        #expect(result.stderr.contains("\(host):\(port)") && result.stderr.contains("in use"), "\(service): \(result.stderr)")
    }

    @Test func aSecondProcessForTheSameCacheIsRefused() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0"])
        try fleet.startOrigin()
        let first = try fleet.start("edge-1")
        let segment = try fleet.segments("ts")[0]
        #expect(try RawHTTPConnection.get(first.host, first.port, "/" + segment).status == 200)
        let partial = fleet.cacheDirectory("edge-1") + "/.partial/in-progress"
        try Data("work in progress".utf8).write(to: URL(fileURLWithPath: partial))
        let second = try ProcessRunner.run(EdgeNodeBinary.path, ["serve", "--config", fleet.configPath, "--node", "edge-1"], timeout: 20)
        #expect(second.status == 1 && second.stderr.contains("another edgenode process"), "\(second.stderr)")
        #expect(FileManager.default.fileExists(atPath: partial), "the first one's files are untouched")
        #expect(try RawHTTPConnection.get(first.host, first.port, "/" + segment).status == 200)
        // Once the first has died (kill -9 included), the directory is free again.
        #expect(first.stop(signal: SIGKILL) != nil)
        let third = try fleet.start("edge-1")
        #expect(try RawHTTPConnection.get(third.host, third.port, "/" + segment).status == 200)
    }

    @Test func aSecondOriginForTheSameNodeIsRefused() throws {
        let directory = try TemporaryDirectory("life")
        defer { directory.remove() }
        let host = LoopbackAddress.next()
        let config = try Self.fleet(host: host, directory: directory)
        let first = try ServerProcess(EdgeNodeBinary.path, ["serve", "--config", config, "--node", "origin-1"], host: host, port: 18_300)
        let second = try ProcessRunner.run(EdgeNodeBinary.path, ["serve", "--config", config, "--node", "origin-1"], timeout: 20)
        #expect(second.status == 1 && second.stderr.contains("another edgenode process"), "\(second.stderr)")
        #expect(first.isRunning && first.stop() == 0, "\(first.log)")
    }
}
