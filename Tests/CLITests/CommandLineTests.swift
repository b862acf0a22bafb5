import EdgeNode
import Foundation
import Testing
import TestSupport

/// What a newcomer meets first: `--version`, argument errors exiting 2 with the usage, and errors in words.
@Suite struct CommandLineTests {
    @Test func versionAndArgumentErrors() throws {
        let version = try EdgeNodeBinary.run(["--version"])
        #expect(version.status == 0 && version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == BuildInfo.description)
        for arguments in [["segment"], ["frobnicate"], ["serve", "--threads", "many"], ["royalty", "close"]] {
            let result = try EdgeNodeBinary.run(arguments)
            #expect(result.status == 2, "\(arguments): exit \(result.status)")
            #expect(result.stderr.contains("Usage") || result.stderr.contains("Error"), "\(arguments): \(result.stderr)")
        }
    }

    @Test func errorsSayWhatHappenedOnce() throws {
        let scratch = try TemporaryDirectory("cli-words")
        defer { scratch.remove() }
        let missing = try EdgeNodeBinary.run(["status", "--config", scratch.path + "/nope.conf", "--node", "x"])
        #expect(missing.status == 2)
        #expect(missing.stderr.components(separatedBy: "nope.conf").count == 2 && missing.stderr.contains("nope.conf: no such file"),
                "the path once: \(missing.stderr)")
        let host = LoopbackAddress.next()
        try """
            [[node]]
            name = "origin-1"
            role = "origin"
            region = "test"
            latitude = 0
            longitude = 0
            http = "\(host):9"
            content = "content"
            """.write(toFile: scratch.path + "/nodes.conf", atomically: true, encoding: .utf8)
        let refused = try EdgeNodeBinary.run(["status", "--config", scratch.path + "/nodes.conf", "--node", "origin-1"])
        #expect(refused.status == 1 && refused.stderr.contains("connection refused (is the node running?)"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("NSURLErrorDomain") && !refused.stderr.contains("error -"), "\(refused.stderr)")
    }

    @Test func theBuildIsAMetric() throws {
        let scratch = try TemporaryDirectory("cli-build-info")
        defer { scratch.remove() }
        let host = LoopbackAddress.next()
        let server = try ServerProcess(EdgeNodeBinary.path, ["serve", "--root", scratch.path, "--listen", "\(host):8080"], host: host, port: 8080)
        let metrics = String(decoding: try RawHTTPConnection.get(host, 8080, "/metrics").body, as: UTF8.self)
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("edgenode_build_info{") }
        #expect(line?.contains("version=\"\(BuildInfo.version)\"") == true && (line?.hasSuffix(" 1") == true || line?.hasSuffix(" 1.0") == true), "\(metrics.prefix(500))")
        #expect(server.stop() == 0)
    }
}
