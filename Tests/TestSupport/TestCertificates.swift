import Foundation

/// A certificate authority and the certificates it signs, made with openssl for a test: EC P-256, the leaf's subject
/// alternative name the IP address it is served at.
public struct TestCertificates: Sendable {
    public let directory: String

    /// A new CA (`ca.pem`, `ca.key`) in `directory`.
    public init(directory: String, name: String = "ca") throws {
        self.directory = directory
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(directory)/\(name).key",
                          "-out", "\(directory)/\(name).pem", "-days", "30", "-subj", "/CN=edgenode test \(name)"])
        self.caName = name
    }

    private let caName: String

    /// The CA's certificate (what clients trust).
    public var ca: String { "\(directory)/\(caName).pem" }

    /// A leaf for `ip` signed by this CA: `(NAME.pem, NAME.key)`, the key 0600. `serial` sets its serial number.
    @discardableResult
    public func leaf(_ name: String, ip: String, serial: Int) throws -> (certificate: String, key: String) {
        let (certificate, key) = ("\(directory)/\(name).pem", "\(directory)/\(name).key")
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", "\(directory)/\(name).csr",
                          "-subj", "/CN=\(name)"])
        try "subjectAltName=IP:\(ip)\nextendedKeyUsage=serverAuth\n".write(toFile: "\(directory)/\(name).ext", atomically: true, encoding: .utf8)
        try Self.openssl(["x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", ca, "-CAkey", "\(directory)/\(caName).key",
                          "-set_serial", "\(serial)", "-out", certificate, "-days", "30", "-extfile", "\(directory)/\(name).ext"])
        chmod(key, 0o600)
        return (certificate, key)
    }

    private static func openssl(_ arguments: [String]) throws {
        let result = try ProcessRunner.run("openssl", arguments, timeout: 60)
        guard result.status == 0 else { throw FixtureError(message: "openssl \(arguments.first ?? ""): \(result.stderr)") }
    }
}
