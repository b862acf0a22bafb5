import NIOSSL

extension TLSConfiguration {
    /// What every node speaks, as server and as client: TLS 1.2 or 1.3, ALPN `http/1.1`.
    mutating func speakNodeProtocols() {
        minimumTLSVersion = .tlsv12
        maximumTLSVersion = .tlsv13
        applicationProtocols = ["http/1.1"]
    }
}
