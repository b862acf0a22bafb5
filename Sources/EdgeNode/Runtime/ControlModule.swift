import Control
import Foundation
import LedgerStore
import Logging
import NIOCore
import NodeTLS
import ServiceLifecycle

/// The origin's control module inside `serve`: the ledger, its control API on its own address, periodic checkpoints.
public enum ControlModule {
    /// Opens the ledger (checking its integrity) and returns the services to run. A ledger that fails its integrity
    /// check still serves reads and proofs, refuses writes, and says why in the log.
    /// `onListening` is called once the API's socket is bound. With `tls` the API serves HTTPS only.
    public static func services(address: SocketAddressSpec, tls: ServerTLS? = nil, settings: NodesConfig.LedgerSettings, royalty: RoyaltySettings,
                                logger: Logger, onListening: @escaping @Sendable () -> Void = {}) throws -> [any Service] {
        var logger = logger
        logger[metadataKey: "module"] = "control"
        let signer = try KeyStore.loadSigner(path: settings.signingKey)
        let store = try LedgerStore(path: settings.database, verifier: signer.verifier)
        if !store.integrityProblems.isEmpty {
            logger.critical("ledger integrity check failed: writes refused", metadata: ["problems": "\(store.integrityProblems)"])
        } else {
            logger.info("ledger opened", metadata: ["entries": "\(store.size)", "database": "\(settings.database)"])
        }
        let metrics = LedgerMetrics()
        metrics.update(store)
        var commit = GroupCommitter.Settings()
        commit.batchCommitted = { count in metrics.committed(count, store: store) }
        let ledger = LedgerModule(store: store, committer: GroupCommitter(store: store, settings: commit), signer: signer,
                                  logOrigin: LedgerModule.defaultLogOrigin,
                                  anchors: settings.witness.map { [FileWitness(path: $0)] } ?? [], logger: logger)
        let api = ControlAPI(ledger: ledger, royalty: royalty).server(host: address.host, port: address.port, tls: tls, logger: logger,
                                                                      onListening: { _ in onListening() })
        return [ListeningService(api, name: "the control API", address: "\(address)"),
                CheckpointService(ledger: ledger, interval: .seconds(settings.checkpointIntervalSeconds))]
    }
}

/// A server whose failure to listen is reported as a `ListenError` (which service, where, why in words) rather than
/// the socket library's words.
public struct ListeningService<Inner: Service>: Service {
    let inner: Inner
    let name: String
    let address: String

    public init(_ inner: Inner, name: String, address: String) {
        self.inner = inner
        self.name = name
        self.address = address
    }

    public func run() async throws {
        do {
            try await inner.run()
        } catch let error as IOError where ListenError.isListenFailure(error) {
            throw ListenError(service: name, address: address, underlying: error)
        }
    }
}
