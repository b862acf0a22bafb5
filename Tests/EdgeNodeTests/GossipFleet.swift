import EdgeNode
import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// N real `edgenode serve` processes that gossip, each on its own loopback address: node-0 is an origin (empty
/// content), the others edges whose parent it is. The keyring is made with `edgenode gossip-key generate`.
final class GossipFleet: @unchecked Sendable {
    static let httpPort = 18_200
    static let gossipPort = 17_946
    let directory: TemporaryDirectory
    let hosts: [String]
    private(set) var servers: [ServerProcess?]

    /// `operatorKeys`: public key files listed in `[fleet] operator_keys`.
    init(size: Int, pubkey: String, operatorKeys: [String] = []) throws {
        directory = try TemporaryDirectory("gossip")
        hosts = (0..<size).map { _ in LoopbackAddress.next() }
        servers = Array(repeating: nil, count: size)
        try FileManager.default.createDirectory(atPath: directory.path + "/origin-content", withIntermediateDirectories: true)
        let generated = try EdgeNodeBinary.run(["gossip-key", "generate", "--keyring", keyring])
        guard generated.status == 0 else { throw FixtureError(message: generated.stderr) }
        var text = "[fleet]\nname = \"test\"\ngossip_keyring = \"\(keyring)\"\ngossip_seeds = [\"node-0\", \"node-1\"]\n"
        text += "operator_keys = [\(operatorKeys.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
        for (index, host) in hosts.enumerated() {
            text += "\n[[node]]\nname = \"node-\(index)\"\nrole = \"\(index == 0 ? "origin" : "edge")\"\nregion = \"r\(index % 3)\"\n"
            text += "latitude = \(index)\nlongitude = \(index)\nhttp = \"\(host):\(Self.httpPort)\"\ngossip = \"\(host):\(Self.gossipPort)\"\n"
            text += "threads = 1\n"
            if index == 0 {
                text += "content = \"\(directory.path)/origin-content\"\n"
            } else {
                text += "content = \"\(directory.path)/cache-\(index)\"\nparents = [\"node-0\"]\norigin_key = \"\(pubkey)\"\n"
            }
        }
        try text.write(toFile: config, atomically: true, encoding: .utf8)
    }

    deinit { directory.remove() }

    var config: String { directory.path + "/nodes.conf" }
    var keyring: String { directory.path + "/gossip.keyring" }

    func start(_ index: Int) throws {
        servers[index] = try ServerProcess(EdgeNodeBinary.path, ["serve", "--config", config, "--node", "node-\(index)"],
                                           host: hosts[index], port: Self.httpPort)
    }

    func startAll() throws { for index in hosts.indices { try start(index) } }

    /// Node `index`'s view of the cluster, or nil if it does not answer.
    func view(_ index: Int) -> ClusterSnapshot? {
        guard let response = try? RawHTTPConnection.get(hosts[index], Self.httpPort, "/cluster"), response.status == 200 else { return nil }
        return try? JSONDecoder().decode(ClusterSnapshot.self, from: Data(response.body))
    }

    /// How node `observer` sees node `target` ("alive", "suspect", "dead", "left"), or nil.
    func status(of target: Int, seenBy observer: Int) -> String? {
        view(observer)?.members.first { $0.name == "node-\(target)" }?.status
    }

    func signal(_ index: Int, _ signal: Int32) { if let pid = servers[index]?.pid { kill(pid, signal) } }

    func metric(_ index: Int, _ series: String) -> Int {
        guard let response = try? RawHTTPConnection.get(hosts[index], Self.httpPort, "/metrics") else { return -1 }
        for line in String(decoding: response.body, as: UTF8.self).split(separator: "\n") where line.hasPrefix(series + " ") {
            return Int(Double(line.dropFirst(series.count + 1)) ?? -1)
        }
        return 0
    }
}
