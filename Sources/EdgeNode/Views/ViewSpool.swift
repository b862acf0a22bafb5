import Foundation
import Royalty

/// A node's view counts on disk (`<content>/.views`, 0700; files 0600, written to a temporary file and renamed):
/// `open-YYYY-MM-DDThh.txt`, the counts of each period still open (saved every report interval and on stop, taken back
/// after a restart), and `report-YYYY-MM-DDThh.json`, each closed period's signed report until the origin has it
/// (reports the origin refused for good move to `rejected/`).
struct ViewSpool: Sendable {
    let directory: String

    init(content: String) throws {
        directory = content + "/.views"
        try FileManager.default.createDirectory(atPath: directory + "/rejected", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
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
