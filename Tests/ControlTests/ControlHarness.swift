import Control
import Foundation
import Ledger
import LedgerStore
import Logging
import Manifest
import NodeTLS
import ServiceLifecycle
import TestSupport

/// A control API running in this process on a real loopback socket, over a real SQLite ledger, with one token per
/// kind of scope.
final class ControlHarness: @unchecked Sendable {
    let scratch: TemporaryDirectory
    let store: LedgerStore
    let signer: NoteSigner
    let ledger: LedgerModule
    let host: String
    let port = 9090
    let admin = BearerToken.generate()
    let artist = BearerToken.generate()
    let otherArtist = BearerToken.generate()
    let node = BearerToken.generate()
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// The trust a client needs when the API serves HTTPS (`tls` given to `init`).
    let clientTLS: ClientTLS?

    /// `tls`: serve HTTPS only, with this server side and clients trusting `clientTLS`.
    init(witness: Bool = false, idleTimeout: Duration = .seconds(30), royalty: RoyaltySettings = RoyaltySettings(),
         host: String = LoopbackAddress.next(), tls: (server: ServerTLS, client: ClientTLS)? = nil) async throws {
        self.host = host
        clientTLS = tls?.client
        scratch = try TemporaryDirectory("control")
        signer = try NoteSigner.generate(name: "origin-test")
        store = try LedgerStore(path: scratch.path + "/ledger.sqlite", verifier: signer.verifier)
        for (token, scope) in [(admin, "admin"), (artist, "artist:luna"), (otherArtist, "artist:sol"), (node, "node:edge-1")] {
            try store.addToken(digest: BearerToken.digest(token), scope: scope, label: "test", at: 0)
        }
        var logger = Logger(label: "control-test")
        logger.logLevel = .warning
        ledger = LedgerModule(store: store, committer: GroupCommitter(store: store), signer: signer, logOrigin: LedgerModule.defaultLogOrigin,
                              anchors: witness ? [FileWitness(path: scratch.path + "/witness.jsonl")] : [], logger: logger)
        let ready = AsyncStream<Int>.makeStream()
        let server = ControlAPI(ledger: ledger, royalty: royalty).server(host: host, port: port, tls: tls?.server, logger: logger,
                                                                         idleTimeout: idleTimeout) { port in
            ready.continuation.yield(port)
        }
        group = ServiceGroup(services: [server], logger: logger)
        running = Task { [group] in try await group.run() }
        for await _ in ready.stream { break }
    }

    func client(_ token: String?) -> ControlClient { ControlClient(host: host, port: port, token: token, tls: clientTLS) }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await running.result
        scratch.remove()
    }

    /// A transfer body: `amount` from an external source to an artist (JSON).
    static func royalty(key: String, artist: String = "luna", amount: Int64 = 1_000, currency: String = "EUR", source: String = "spotify") -> Data {
        Data("""
            {"idempotency_key":"\(key)","kind":"royalty","memo":"streams","postings":[
            {"account":"external/\(source)/\(currency)","side":"debit","amount":\(amount)},
            {"account":"artist/\(artist)/\(currency)","side":"credit","amount":\(amount)}]}
            """.utf8)
    }

    static func json(_ response: ControlClient.Response) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
    }

    static func errorCode(_ response: ControlClient.Response) -> String? {
        (json(response)["error"] as? [String: Any])?["code"] as? String
    }

    static func errorMessage(_ response: ControlClient.Response) -> String {
        (json(response)["error"] as? [String: Any])?["message"] as? String ?? String(decoding: response.body, as: UTF8.self)
    }
}
