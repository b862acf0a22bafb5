import ArgumentParser
import EdgeNode
import Foundation
import Manifest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `edgenode emergency on|off|status`: flips the fleet into emergency broadcast mode and back with a flag signed by an
/// operator key, or shows each node's mode.
struct EmergencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emergency",
        abstract: "Emergency broadcast mode: origin and edge stop serving viewers, mesh and satellite nodes take them.",
        subcommands: [EmergencyOnCommand.self, EmergencyOffCommand.self, EmergencyStatusCommand.self]
    )
}

/// What `on` and `off` share.
struct EmergencyFlipOptions: ParsableArguments {
    @Option(name: .long, help: "Why (recorded in the signed flag; at most 200 bytes).")
    var reason: String

    @Option(name: .long, help: "The operator's private key (edgenode operator keygen); its public key must be in [fleet] operator_keys.")
    var key: String

    @Option(name: .long, help: "The fleet's nodes.conf.")
    var config: String

    @Option(name: .long, parsing: .singleValue, help: "Hand the flag to this node (repeatable; default: every node that answers).")
    var node: [String] = []

    @Option(name: .long, help: "Seconds to wait for each node.")
    var timeout: Double = 5

    /// Signs a flag one epoch above the highest any reachable node holds and posts it to the chosen nodes; exits 1
    /// unless at least one took it.
    func flip(on: Bool) async throws {
        let fleet = try EmergencyClient.loadConfig(config)
        let signer = try loadSignerForCommand(key)
        let targets = try EmergencyClient.nodes(fleet, named: node)
        let client = EmergencyClient(timeout: timeout, check: try EmergencyClient.check(fleet))
        let held = await client.statuses(of: fleet.nodes)
        // Only epochs of flags whose signatures verify against the fleet's operator keys count: a node (or an
        // impostor at its address) answering a made-up epoch cannot steer the next one.
        let epochs = held.compactMap { try? $0.answer.get().epoch }
        guard let highest = epochs.max() else {
            printError("no node of \(fleet.path) answered GET \(EmergencyStatus.path) with a verified flag, so the current epoch is unknown")
            for (name, answer) in held { if case .failure(let error) = answer { printError("  \(name): \(error)") } }
            throw ExitCode(1)
        }
        guard highest < EmergencyFlag.maximumEpoch else {
            printError("the flag in force is at epoch \(highest), the highest a flag may carry: no later flag can be signed")
            throw ExitCode(1)
        }
        for (name, answer) in held { if case .failure(let error) = answer, error.unverified { printError("\(name): \(error) (ignored)") } }
        let note: SignedNote
        do {
            let flag = try EmergencyFlag(fleet: fleet.fleetName, epoch: highest + 1, on: on, issuedAt: Int64(Date().timeIntervalSince1970),
                                         reason: reason)
            note = try flag.signed(by: signer)
        } catch {
            printError("cannot sign the flag: \(error)")
            throw ExitCode(2)
        }
        let results = await client.post(Array(note.rendered.utf8), to: targets)
        // A node that gossip reached before the post refuses it as not newer: it holds the flag all the same.
        let refusedAsHeld = Set(results.filter { if case .failure(let error) = $0.answer { error.description.hasPrefix("409") } else { false } }
            .map(\.name))
        let recheck = Dictionary(uniqueKeysWithValues: await client.statuses(of: targets.filter { refusedAsHeld.contains($0.name) })
            .map { ($0.name, $0.answer) })
        var accepted = 0
        for (name, result) in results {
            switch (result, recheck[name]) {
            case (.success(let status), _):
                accepted += 1
                print("\(name): took it, \(status.mode) at epoch \(status.epoch)")
            case (.failure, .success(let status)?) where status.epoch >= highest + 1:
                accepted += 1
                print("\(name): already had it through gossip, \(status.mode) at epoch \(status.epoch)")
            case (.failure(let error), _):
                print("\(name): \(error)")
            }
        }
        guard accepted > 0 else {
            printError("no node took the flag")
            throw ExitCode(1)
        }
        print("emergency mode \(on ? "ON" : "off") at epoch \(highest + 1), handed to \(accepted) node\(accepted == 1 ? "" : "s"); gossip spreads it to the rest")
    }
}

struct EmergencyOnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "on", abstract: "Sign and hand out a flag that turns emergency mode on.")
    @OptionGroup var options: EmergencyFlipOptions

    func run() async throws { try await options.flip(on: true) }
}

struct EmergencyOffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "off", abstract: "Sign and hand out a flag that turns emergency mode off.")
    @OptionGroup var options: EmergencyFlipOptions

    func run() async throws { try await options.flip(on: false) }
}

struct EmergencyStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the emergency mode each node holds.")

    @Option(name: .long, help: "The fleet's nodes.conf.")
    var config: String

    @Option(name: .long, parsing: .singleValue, help: "Ask this node (repeatable; default: every node).")
    var node: [String] = []

    @Option(name: .long, help: "Seconds to wait for each node.")
    var timeout: Double = 5

    func run() async throws {
        let fleet = try EmergencyClient.loadConfig(config)
        let answers = await EmergencyClient(timeout: timeout, check: try EmergencyClient.check(fleet))
            .statuses(of: try EmergencyClient.nodes(fleet, named: node))
        var rows: [[String]] = []
        for (name, answer) in answers {
            switch answer {
            case .success(let status):
                let issued = status.issuedAt.map { Date(timeIntervalSince1970: TimeInterval($0)).ISO8601Format() } ?? "-"
                rows.append([name, status.epoch == 0 ? "off (never set)" : status.mode, String(status.epoch),
                             status.signedBy.joined(separator: ","), issued, status.reason ?? ""])
            case .failure(let error):
                rows.append([name, error.unverified ? "unverified" : "unreachable", "-", "-", "-", "\(error)"])
            }
        }
        let header = ["NODE", "MODE", "EPOCH", "SIGNED-BY", "ISSUED", "REASON"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max()! }
        for row in [header] + rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        let epochs = Set(answers.compactMap { try? $0.answer.get().epoch })
        if epochs.count > 1 { print("nodes hold different epochs: gossip has not converged (yet)") }
        if epochs.isEmpty {
            printError("no node answered")
            throw ExitCode(1)
        }
    }
}

/// Talks to nodes' `/fleet/emergency`.
struct EmergencyClient {
    /// Why a node gave no usable answer.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        /// It answered a flag whose signatures do not verify against the fleet's operator keys.
        var unverified = false
    }

    let timeout: Double
    /// How an answered flag is checked before its epoch, mode or signers are believed.
    let check: EmergencyFlagCheck

    /// The fleet's check: its name and operator keys.
    static func check(_ config: NodesConfig) throws -> EmergencyFlagCheck {
        do {
            return EmergencyFlagCheck(fleet: config.fleetName, operatorKeys: try config.loadOperatorKeys(),
                                      maximumSkewSeconds: config.emergencyMaximumSkewSeconds)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
    }

    static func loadConfig(_ path: String) throws -> NodesConfig {
        do {
            return try NodesConfig.load(path: path)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
    }

    /// The nodes named (all when none is), in `nodes.conf` order; an unknown name is an argument error.
    static func nodes(_ config: NodesConfig, named names: [String]) throws -> [NodesConfig.Node] {
        do {
            return names.isEmpty ? config.nodes : try names.map { name throws(ConfigError) in try config.node(named: name) }
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
    }

    static func url(_ node: NodesConfig.Node) -> URL {
        let host = node.http.host.contains(":") ? "[\(node.http.host)]" : node.http.host
        return URL(string: "http://\(host):\(node.http.port)\(EmergencyStatus.path)")!
    }

    /// Each node's `GET /fleet/emergency`, asked in parallel, in the order given; an answered flag that does not
    /// verify (or does not say what its note says) is a failure, never a status.
    func statuses(of nodes: [NodesConfig.Node]) async -> [(name: String, answer: Result<EmergencyStatus, Failure>)] {
        let check = check
        return await exchange(nodes) { node in
            var request = URLRequest(url: Self.url(node))
            request.timeoutInterval = timeout
            return request
        }.map { ($0.name, $0.answer.flatMap { Self.verified($0, check: check) }) }
    }

    /// `status` if the flag it names verifies and matches it (epoch 0 is no flag at all).
    static func verified(_ status: EmergencyStatus, check: EmergencyFlagCheck) -> Result<EmergencyStatus, Failure> {
        guard status.epoch != 0 || status.note != nil else { return .success(status) }
        guard let note = status.note else { return .failure(Failure(description: "answered epoch \(status.epoch) without its signed flag", unverified: true)) }
        switch check.check(Array(note.utf8), held: nil, now: Int64(Date().timeIntervalSince1970), fromGossip: true) {
        case .success(let flag) where flag.epoch == status.epoch && (flag.on ? "on" : "off") == status.mode:
            var verified = status
            verified.signedBy = (try? SignedNote(parsing: note))?.signatures.map(\.name) ?? []
            return .success(verified)
        case .success:
            return .failure(Failure(description: "answered a flag that does not say what its status says", unverified: true))
        case .failure(let refusal):
            return .failure(Failure(description: "answered a flag that does not verify: \(refusal)", unverified: true))
        }
    }

    /// Posts `note` to each node in parallel: each node's answer (an accepted flag's status; a refusal's reason).
    func post(_ note: [UInt8], to nodes: [NodesConfig.Node]) async -> [(name: String, answer: Result<EmergencyStatus, Failure>)] {
        await exchange(nodes) { node in
            var request = URLRequest(url: Self.url(node))
            request.httpMethod = "POST"
            request.httpBody = Data(note)
            request.setValue("text/plain; charset=utf-8", forHTTPHeaderField: "Content-Type")
            request.timeoutInterval = timeout
            return request
        }
    }

    private func exchange(_ nodes: [NodesConfig.Node], request: @escaping @Sendable (NodesConfig.Node) -> URLRequest) async
        -> [(name: String, answer: Result<EmergencyStatus, Failure>)] {
        await withTaskGroup(of: (Int, Result<EmergencyStatus, Failure>).self) { group in
            for (index, node) in nodes.enumerated() {
                group.addTask { (index, await Self.send(request(node))) }
            }
            var answers = [Result<EmergencyStatus, Failure>?](repeating: nil, count: nodes.count)
            for await (index, answer) in group { answers[index] = answer }
            return zip(nodes, answers).map { ($0.name, $1!) }
        }
    }

    private static func send(_ request: URLRequest) async -> Result<EmergencyStatus, Failure> {
        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            return .failure(Failure(description: NetworkFailure.describe(error, timeout: request.timeoutInterval)))
        }
        let text = String(decoding: data.prefix(1024), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let http = response as? HTTPURLResponse else { return .failure(Failure(description: "not an HTTP answer")) }
        guard http.statusCode == 200 else { return .failure(Failure(description: "\(http.statusCode) \(text)")) }
        do {
            return .success(try JSONDecoder().decode(EmergencyStatus.self, from: data))
        } catch {
            return .failure(Failure(description: "unreadable answer: \(text)"))
        }
    }
}
