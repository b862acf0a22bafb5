import Foundation
import Manifest

/// Reads and writes origin signing keys: `PATH.key` (mode 0600, C2SP signer encoding) and `PATH.pub`
/// (C2SP verifier encoding). Private keys that other users could read are refused, as ssh does.
public enum KeyStore {
    /// Upper bound on a key file's size.
    static let maximumKeyFileSize = 4096

    /// Writes a key pair; refuses to overwrite unless `replace`.
    public static func write(_ signer: NoteSigner, basePath: String, replace: Bool) throws(KeyStoreError) -> (privateKey: String, publicKey: String) {
        let privatePath = basePath + ".key"
        let publicPath = basePath + ".pub"
        do {
            try AtomicFile.write(Data((signer.encoded + "\n").utf8), to: privatePath, mode: 0o600, replace: replace)
            try AtomicFile.write(Data((signer.verifier.encoded + "\n").utf8), to: publicPath, mode: 0o644, replace: replace)
        } catch {
            throw .storage(error)
        }
        return (privatePath, publicPath)
    }

    /// Loads a private key, refusing one readable by group or others.
    public static func loadSigner(path: String) throws(KeyStoreError) -> NoteSigner {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .storage(.missing(path)) }
        guard info.st_mode & 0o077 == 0 else {
            throw .permissionsTooOpen(path: path, mode: String(info.st_mode & 0o777, radix: 8))
        }
        let text = try readText(path)
        do {
            return try NoteSigner(encoded: text)
        } catch {
            throw .malformed(path: path, error)
        }
    }

    /// Loads a public key.
    public static func loadVerifier(path: String) throws(KeyStoreError) -> NoteVerifier {
        let text = try readText(path)
        do {
            return try NoteVerifier(encoded: text)
        } catch {
            throw .malformed(path: path, error)
        }
    }

    private static func readText(_ path: String) throws(KeyStoreError) -> String {
        do {
            let data = try AtomicFile.read(path, limit: maximumKeyFileSize)
            guard let text = String(data: data, encoding: .utf8) else { throw KeyStoreError.malformed(path: path, .malformedKey("not UTF-8")) }
            return text
        } catch let error as StorageError {
            throw .storage(error)
        } catch let error as KeyStoreError {
            throw error
        } catch {
            throw .storage(.io(path, "\(error)"))
        }
    }
}

/// Why a key could not be written or loaded.
public enum KeyStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case storage(StorageError)
    case malformed(path: String, NoteError)
    case permissionsTooOpen(path: String, mode: String)

    public var description: String {
        switch self {
        case .storage(let error): "\(error)"
        case .malformed(let path, let error): "\(path): \(error)"
        case .permissionsTooOpen(let path, let mode):
            "\(path): permissions \(mode) are too open; a private key must not be readable by others (chmod 600)"
        }
    }
}
