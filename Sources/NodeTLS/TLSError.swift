/// Why a certificate, key or certificate authority cannot be used.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
