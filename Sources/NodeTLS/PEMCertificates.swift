import Foundation
import NIOSSL

/// Certificates read from a PEM file: a server's chain (leaf first) or a CA's certificates.
enum PEMCertificates {
    /// Every certificate in `path`; throws naming the file when it cannot be read, is not PEM, or holds none.
    static func read(_ path: String) throws(TLSError) -> [NIOSSLCertificate] {
        guard access(path, R_OK) == 0 else { throw TLSError(description: "\(path): \(String(cString: strerror(errno)))") }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw TLSError(description: "\(path): not a PEM certificate chain (\(error))")
        }
        guard !certificates.isEmpty else { throw TLSError(description: "\(path): no certificate in the file") }
        return certificates
    }
}
