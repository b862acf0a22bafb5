import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import NodeTLS

/// Hummingbird's child channel behind TLS whose context is taken from a `ServerTLS` at each accepted connection, so a
/// reload that rotates the certificate reaches new connections while open ones keep their session (HummingbirdTLS
/// fixes one context for the server's life).
struct ReloadableTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let tls: ServerTLS

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
