import Foundation
import NIOSSL

/// The client side of TLS between nodes and to the control API: the server's certificate must chain to the fleet's CA
/// (`[fleet] tls_ca`), or to the system's roots when no CA is given, and name the host (or IP address) connected to.
/// TLS 1.2 or 1.3, ALPN `http/1.1`.
public final class ClientTLS: Sendable {
    /// The context every connection made with these settings uses.
    public let context: NIOSSLContext

    /// Trusts only the certificate authorities in the PEM file `certificateAuthority`.
    public init(certificateAuthority: String) throws(TLSError) {
        context = try Self.context(trust: .certificates(try PEMCertificates.read(certificateAuthority)), source: certificateAuthority)
    }

    /// Trusts the system's certificate authorities (a control API with a publicly issued certificate).
    public init() throws(TLSError) {
        context = try Self.context(trust: .default, source: "the system's trust store")
    }

    /// Settings for a server known by an optional CA file: that CA, or the system's roots without one.
    public static func trusting(_ certificateAuthority: String?) throws(TLSError) -> ClientTLS {
        if let certificateAuthority { return try ClientTLS(certificateAuthority: certificateAuthority) }
        return try ClientTLS()
    }

    /// The name to send in SNI and verify the certificate against: `nil` for an IP address (SNI cannot carry one;
    /// NIOSSL then checks the address connected to against the certificate's IP SANs), else the host name.
    public static func serverHostname(for host: String) -> String? {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 { return nil }
        return host
    }

    private static func context(trust: NIOSSLTrustRoots, source: String) throws(TLSError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = trust
        configuration.certificateVerification = .fullVerification
        configuration.speakNodeProtocols()
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSError(description: "\(source): \(error)")
        }
    }
}
