import Foundation
import Royalty

/// A node's view counts on disk (`<content>/.views`, 0700; files 0600, written to a temporary file and renamed):
/// `open-YYYY-MM-DDThh:mm:ss.txt`, the counts of each period still open (saved every report interval and on stop, taken back
/// after a restart), `report-YYYY-MM-DDThh:mm:ss.json`, each closed period's signed report until the origin has it
/// (reports the origin refused for good move to `rejected/`), and `secret` on a node without a fleet keyring.
struct ViewSpool: Sendable {
    let directory: String

    init(content: String) throws {
        directory = content + "/.views"
        try FileManager.default.createDirectory(atPath: directory + "/rejected", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    /// The node's own salt secret (`secret`, 32 random bytes made once, 0600), for a node without a fleet keyring: kept,
    /// so a session goes on with the same key after a restart.
    func nodeSecret() throws -> [UInt8] {
        let path = directory + "/secret"
        if let data = try? AtomicFile.read(path, limit: 64), data.count == 32 { return Array(data) }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try AtomicFile.write(Data(secret), to: path, mode: 0o600, replace: true)
        return secret
    }

    /// Replaces the saved open periods with `reports`.
    func saveOpen(_ reports: [DeliveryReport]) throws {
        var kept: Set<String> = []
        for report in reports {
            let name = "open-\(report.periodLabel).txt"
            try AtomicFile.write(Data(report.text.utf8), to: directory + "/" + name, mode: 0o600, replace: true)
            kept.insert(name)
        }
        for name in try files(prefix: "open-") where !kept.contains(name) {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    /// The saved open periods of this node; a file that does not parse is set aside (named in the error list).
    func loadOpen(node: String) -> (reports: [DeliveryReport], unreadable: [String]) {
        var reports: [DeliveryReport] = [], unreadable: [String] = []
        for name in (try? files(prefix: "open-")) ?? [] {
            guard let data = try? AtomicFile.read(directory + "/" + name, limit: 1 << 30),
                  let report = try? DeliveryReport(text: String(decoding: data, as: UTF8.self)), report.node == node else {
                unreadable.append(name)
                try? FileManager.default.moveItem(atPath: directory + "/" + name, toPath: directory + "/rejected/" + name)
                continue
            }
            reports.append(report)
        }
        return (reports, unreadable)
    }

    /// Keeps a closed period's signed report until it is delivered.
    func enqueue(_ submission: Data, period: String) throws {
        try AtomicFile.write(submission, to: directory + "/report-\(period).json", mode: 0o600, replace: true)
    }

    /// Reports waiting for delivery, oldest period first.
    func pending() throws -> [String] { try files(prefix: "report-").map { directory + "/" + $0 } }

    func delivered(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    func reject(_ path: String) {
        try? FileManager.default.moveItem(atPath: path, toPath: directory + "/rejected/" + URL(fileURLWithPath: path).lastPathComponent)
    }

    private func files(prefix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(prefix) && !$0.hasPrefix(".") }.sorted()
    }
}
