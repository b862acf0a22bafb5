import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A fleet for one test: a `nodes.conf` in a temporary directory, the origin serving the published fixture, caching
/// nodes as real `edgenode serve` processes, and placeholder entries whose addresses a `ParentProxy` takes.
final class EdgeFleet: @unchecked Sendable {
    static let port = 18_100
    let directory: TemporaryDirectory
    let fixture: PublishedContent.Fixture
    let originHost = LoopbackAddress.next()
    private var blocks: [(name: String, text: String)] = []
    /// Written before the node tables (a `[fleet]` table, say).
    var header = ""
    private(set) var hosts: [String: String] = [:]
    private(set) var origin: ServerProcess?

    init(_ fixture: PublishedContent.Fixture) throws {
        self.fixture = fixture
        directory = try TemporaryDirectory("fleet")
        hosts["origin-1"] = originHost
        blocks.append(("origin-1", Self.block(name: "origin-1", role: "origin", host: originHost, content: fixture.root, parents: nil, extra: [:])))
    }

    deinit { directory.remove() }

    var configPath: String { directory.path + "/nodes.conf" }

    /// Adds a caching node; returns its address.
    @discardableResult
    func addCache(_ name: String, role: String = "edge", parents: [String], extra: [String: String] = [:]) -> String {
        let host = LoopbackAddress.next()
        hosts[name] = host
        blocks.append((name, Self.block(name: name, role: role, host: host, content: cacheDirectory(name), parents: parents,
                                        extra: extra, pubkey: fixture.pubkey)))
        return host
    }

    /// Adds another origin process's entry serving the same published content (an origin's content is only read);
    /// returns its address.
    @discardableResult
    func addOrigin(_ name: String) -> String {
        let host = LoopbackAddress.next()
        hosts[name] = host
        blocks.append((name, Self.block(name: name, role: "origin", host: host, content: fixture.root, parents: nil, extra: [:])))
        return host
    }

    /// Rewrites origin-1's entry with `extra` keys (same address and content) and the file.
    func rewriteOrigin(extra: [String: String]) throws {
        guard let index = blocks.firstIndex(where: { $0.name == "origin-1" }) else { return }
        blocks[index].text = Self.block(name: "origin-1", role: "origin", host: originHost, content: fixture.root, parents: nil, extra: extra)
        try writeConfig()
    }

    /// Rewrites the configuration file as it stands (after `header` changed).
    func rewrite() throws { try writeConfig() }

    /// Rewrites a caching node's entry (same address and directory) and the file, as an operator editing
    /// `nodes.conf` before a reload.
    func rewriteCache(_ name: String, role: String = "edge", parents: [String], extra: [String: String] = [:]) throws {
        guard let index = blocks.firstIndex(where: { $0.name == name }), let host = hosts[name] else { return }
        blocks[index].text = Self.block(name: name, role: role, host: host, content: cacheDirectory(name), parents: parents, extra: extra,
                                        pubkey: fixture.pubkey)
        try writeConfig()
    }

    /// The cache directory of a caching node.
    func cacheDirectory(_ name: String) -> String { directory.path + "/cache-" + name }

    private static func block(name: String, role: String, host: String, content: String, parents: [String]?, extra: [String: String],
                              pubkey: String? = nil) -> String {
        var lines = ["[[node]]", "name = \"\(name)\"", "role = \"\(role)\"", "region = \"test\"", "latitude = 0", "longitude = 0",
                     "http = \"\(host):\(port)\"", "content = \"\(content)\"", "threads = 2"]
        if let parents { lines.append("parents = [\(parents.map { "\"\($0)\"" }.joined(separator: ", "))]") }
        if let pubkey { lines.append("origin_key = \"\(pubkey)\"") }
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) { lines.append("\(key) = \(value)") }
        return lines.joined(separator: "\n")
    }

    private func writeConfig() throws {
        try (header + blocks.map(\.text).joined(separator: "\n\n") + "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func startOrigin() throws {
        try writeConfig()
        origin = try ServerProcess(EdgeNodeBinary.path, ["serve", "--config", configPath, "--node", "origin-1"], host: originHost, port: Self.port)
    }

    func stopOrigin() {
        origin?.stop()
        origin = nil
    }

    /// Starts the node `name` as a process (an origin added by `addOrigin` too).
    func start(_ name: String, logLevel: String? = "debug", environment: [String: String] = [:]) throws -> ServerProcess {
        try writeConfig()
        return try ServerProcess(EdgeNodeBinary.path, ["serve", "--config", configPath, "--node", name] + (logLevel.map { ["--log-level", $0] } ?? []),
                                 host: hosts[name]!, port: Self.port, environment: environment)
    }

    /// The bytes of a published file.
    func originBytes(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.root + "/" + path)))
    }

    /// Paths of the fixture's segments for one format, in playlist order.
    func segments(_ format: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "\(fixture.root)/content-\(format)/360p")
            .filter { $0.hasPrefix("seg_") }.sorted().map { "content-\(format)/360p/\($0)" }
    }

    /// Complete objects in a node's cache directory (not manifests, not partial files), with their sizes.
    func cachedObjects(_ name: String) -> [String: Int] {
        let root = cacheDirectory(name)
        var found: [String: Int] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return found }
        while let relative = enumerator.nextObject() as? String {
            if relative.hasPrefix(".") { continue }
            guard let attributes = enumerator.fileAttributes, attributes[.type] as? FileAttributeType == .typeRegular,
                  !relative.hasSuffix("manifest.json") else { continue }
            found[relative] = (attributes[.size] as? Int) ?? 0
        }
        return found
    }

    /// A counter's value from a node's `/metrics` (0 when absent). `series` is the name with its labels as printed.
    static func metric(_ server: ServerProcess, _ series: String) throws -> Int {
        let text = String(decoding: try RawHTTPConnection.get(server.host, server.port, "/metrics").body, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Int(Double(line.dropFirst(series.count + 1)) ?? -1)
        }
        return 0
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    static func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }
}
