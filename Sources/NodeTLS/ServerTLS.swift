import Foundation
import NIOSSL
import Synchronization

/// A node's TLS server side (`tls_cert`, `tls_key`): TLS 1.2 and 1.3, ALPN `http/1.1`, the certificate chain as the
/// PEM file holds it. The context is replaced by a reload (rotated certificates): each new connection takes the one in
/// force when it is accepted; connections already open keep theirs.
public final class ServerTLS: Sendable {
    private let context: Mutex<NIOSSLContext>

    public init(certificate: String, key: String) throws(TLSError) {
        context = Mutex(try Self.context(certificate: certificate, key: key))
    }

    /// The context new connections use.
    public var current: NIOSSLContext { context.withLock { $0 } }

    /// Loads the files again; throws (keeping the context in force) when they cannot be used.
    public func reload(certificate: String, key: String) throws(TLSError) {
        let fresh = try Self.context(certificate: certificate, key: key)
        context.withLock { $0 = fresh }
    }

    /// A server context from a PEM certificate chain (leaf first) and a PEM private key that only its owner may read
    /// (mode 0600, as for the node's other keys).
    static func context(certificate: String, key: String) throws(TLSError) -> NIOSSLContext {
        var status = stat()
        guard stat(key, &status) == 0 else { throw TLSError(description: "\(key): no such file") }
        guard status.st_mode & 0o077 == 0 else {
            throw TLSError(description: "\(key) is readable by group or others (mode \(String(status.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        let chain = try PEMCertificates.read(certificate)
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw TLSError(description: "\(key): not a PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(privateKey))
        configuration.speakNodeProtocols()
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSError(description: "\(certificate) with \(key): \(error) (does the key belong to the certificate?)")
        }
    }
}
