import ArgumentParser
import EdgeNode
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `edgenode status`: a node's view of the cluster (`GET /cluster`) as a table.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what a node knows of the fleet: members, status, incarnation, health.")

    @Option(name: .long, help: "The fleet's nodes.conf.")
    var config: String

    @Option(name: .long, help: "Which node to ask.")
    var node: String

    @Option(name: .long, help: "Seconds to wait for the node.")
    var timeout: Double = 5

    func run() async throws {
        let entry: NodesConfig.Node
        do {
            entry = try NodesConfig.load(path: config).node(named: node)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let host = entry.http.host.contains(":") ? "[\(entry.http.host)]" : entry.http.host
        guard let url = URL(string: "http://\(host):\(entry.http.port)/cluster") else { throw ExitCode(2) }
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        let snapshot: ClusterSnapshot
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
                printError("\(url): \(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
                throw ExitCode(1)
            }
            snapshot = try JSONDecoder().decode(ClusterSnapshot.self, from: data)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("\(url): \(NetworkFailure.describe(error, timeout: timeout))")
            throw ExitCode(1)
        }
        print(Self.table(snapshot))
    }

    static func table(_ snapshot: ClusterSnapshot) -> String {
        let header = ["NAME", "ROLE", "REGION", "STATUS", "INC", "CONNS", "EGRESS/s", "HIT", "LOAD", "CHANGED"]
        let rows = snapshot.members.map { member in
            [member.name, member.role, member.region, member.status, String(member.incarnation), String(member.health.activeConnections),
             Self.bytes(member.health.egressBytesPerSecond), String(format: "%.0f%%", member.health.cacheHitRatio * 100),
             String(format: "%.1f", Double(member.health.loadScore) / 10) + "%", String(format: "%.0fs ago", member.lastChangeSecondsAgo)]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max()! }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        var lines = ["node \(snapshot.node), local health multiplier \(snapshot.localHealthMultiplier)", line(header)] + rows.map(line)
        if let emergency = snapshot.emergency {
            let issued = Date(timeIntervalSince1970: TimeInterval(emergency.issuedAt)).ISO8601Format()
            lines.append("emergency mode \(emergency.mode == "on" ? "ON" : "off") (epoch \(emergency.epoch), signed by "
                         + "\(emergency.signedBy.joined(separator: ", ")), issued \(issued)): \(emergency.reason)")
        }
        for record in snapshot.records where record.key != EmergencyRecord.key {
            lines.append("record \(record.key) epoch \(record.epoch)\(record.signed ? " (signed)" : "")")
        }
        return lines.joined(separator: "\n")
    }

    static func bytes(_ value: UInt64) -> String {
        let units = ["B", "KB", "MB", "GB"]
        var amount = Double(value), unit = 0
        while amount >= 1000 && unit < units.count - 1 {
            amount /= 1000
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: "%.1f ", amount) + units[unit]
    }
}
