import Foundation

/// The official ISO 20022 `pain.001.001.09` XSD (fetched by `scripts/fetch-pain-xsd.sh`, which `make test` runs) and
/// xmllint, which checks documents against it.
public enum PainSchema {
    public static var path: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
            + "/.build/xsd/pain.001.001.09.xsd"
    }

    /// xmllint's verdict on `xml`: its exit status and what it printed.
    public static func validate(_ xml: String) throws -> (status: Int32, output: String) {
        let file = NSTemporaryDirectory() + "pain-\(UUID().uuidString).xml"
        try xml.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/xmllint")
        process.arguments = ["--noout", "--schema", path, file]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
