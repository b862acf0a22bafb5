import Foundation
import Gossip

#if canImport(Glibc)
import Glibc
#endif

/// The cluster's gossip keys on disk: one base64 key (32 bytes) per line, the primary first; `#` comments. The file
/// is a secret: written 0600 and refused when group or others can read it. Rotation: `install` the new key on every
/// node, then `use` it everywhere, then `remove` the old one; a running node re-reads the file within seconds.
public enum KeyringFile {
    public static func load(_ path: String) throws(KeyringFileError) -> Keyring {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path, String(cString: strerror(errno))) }
        guard info.st_mode & 0o077 == 0 else { throw .permissionsTooOpen(path, String(info.st_mode & 0o777, radix: 8)) }
        let data: Data
        do {
            data = try AtomicFile.read(path, limit: 64 * 1024)
        } catch {
            throw .unreadable(path, "\(error)")
        }
        var keys: [Keyring.Key] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty, !text.hasPrefix("#") else { continue }
            guard let bytes = Data(base64Encoded: text) else { throw .malformed(path, line: number + 1, "not base64") }
            do {
                keys.append(try Keyring.Key(Array(bytes)))
            } catch {
                throw .malformed(path, line: number + 1, "\(error)")
            }
        }
        guard let primary = keys.first else { throw .malformed(path, line: 0, "no key") }
        return Keyring(primary: primary, others: Array(keys.dropFirst()))
    }

    /// Writes the keyring atomically with mode 0600.
    public static func save(_ keyring: Keyring, to path: String, replace: Bool) throws(KeyringFileError) {
        let text = "# edgenode gossip keyring: base64 AES-256 keys, the primary first. Secret: keep it 0600.\n"
            + keyring.keys.map { Data($0.bytes).base64EncodedString() + "\n" }.joined()
        do {
            try AtomicFile.write(Data(text.utf8), to: path, mode: 0o600, replace: replace)
        } catch {
            throw .unwritable(path, "\(error)")
        }
    }

    /// A new random key.
    public static func generateKey() -> Keyring.Key {
        var generator = SystemRandomNumberGenerator()
        return Keyring.Key.random(using: &generator)
    }

    /// A key id as printed: 8 hex digits.
    public static func describe(_ key: Keyring.Key) -> String {
        let hex = String(key.id, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}

public enum KeyringFileError: Error, Equatable, CustomStringConvertible {
    case unreadable(String, String)
    case unwritable(String, String)
    case permissionsTooOpen(String, String)
    case malformed(String, line: Int, String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read the gossip keyring: \(reason)"
        case .unwritable(let path, let reason): "\(path): cannot write the gossip keyring: \(reason)"
        case .permissionsTooOpen(let path, let mode): "\(path): permissions \(mode) are too open for the gossip keyring (chmod 600)"
        case .malformed(let path, let line, let reason): "\(path): line \(line): \(reason)"
        }
    }
}
