import Foundation

/// A hostile TLS client: Python's ssl module builds a genuine ClientHello, which is then sent to `host:port` one byte
/// at a time (a byte whenever 250 ms pass without an answer) until the server closes the connection, or 15 s.
public enum TLSTrickle {
    static let script = """
        import socket, ssl, sys, time
        context = ssl.create_default_context(); incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        handshake = context.wrap_bio(incoming, outgoing, server_hostname="x")
        try: handshake.do_handshake()
        except ssl.SSLWantReadError: pass
        hello = outgoing.read()
        connection = socket.create_connection((sys.argv[1], int(sys.argv[2]))); start = time.time(); connection.settimeout(0.25)
        for byte in hello:
            try:
                connection.send(bytes([byte]))
                if connection.recv(100) == b"": break
            except socket.timeout: pass
            except OSError: break
            if time.time() - start > 15: break
        print(round(time.time() - start, 1))
        """

    /// Seconds the server let the trickle go on before it closed the connection (15 at most).
    public static func heldSeconds(host: String, port: Int) throws -> Double {
        let result = try ProcessRunner.run("python3", ["-c", script, host, "\(port)"], timeout: 60)
        guard let held = Double(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw FixtureError(message: "the trickling client failed: \(result.stderr)")
        }
        return held
    }
}
