import Foundation
import Manifest

#if canImport(Glibc)
import Glibc
#endif

/// Verifies a published content directory against the origin's public key: the manifest signature and tree, every
/// chunk of every listed file, that no unlisted file is present, and that the playlists are valid and agree with
/// the manifest.
public struct ContentVerifier: Sendable {
    /// One thing wrong, naming the file.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }
    }

    /// The outcome.
    public struct Report: Sendable {
        public var problems: [Problem] = []
        public var filesChecked = 0
        public var bytesChecked: Int64 = 0
        public var root: String?
        public var isValid: Bool { problems.isEmpty }
    }

    public let directory: String
    public let verifier: NoteVerifier

    public init(directory: String, verifier: NoteVerifier) {
        self.directory = directory
        self.verifier = verifier
    }

    /// Runs every check and returns all problems found (it does not stop at the first).
    public func verify() -> Report {
        var report = Report()
        let manifestPath = directory + "/manifest.json"
        let verified: VerifiedManifest
        do {
            let data = try AtomicFile.read(manifestPath, limit: ContentManifest.maximumSize)
            verified = try VerifiedManifest(ContentManifest.parse(data), verifier: verifier)
        } catch {
            report.problems.append(Problem(path: "manifest.json", message: "\(error)"))
            return report
        }
        report.root = verified.checkpoint.root.hex
        for entry in verified.files {
            if let problem = checkFile(entry, report: &report) { report.problems.append(problem) }
        }
        report.problems += unlistedFiles(verified)
        report.problems += checkPlaylists(verified)
        return report
    }

    private func checkFile(_ entry: VerifiedManifest.Entry, report: inout Report) -> Problem? {
        let path = directory + "/" + entry.path
        var info = stat()
        guard lstat(path, &info) == 0 else { return Problem(path: entry.path, message: "missing") }
        guard info.st_mode & S_IFMT == S_IFREG else { return Problem(path: entry.path, message: "not a regular file") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return Problem(path: entry.path, message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunkSize = entry.chunks.chunkSize
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var badChunks: [Int] = []
        var index = 0
        var total: Int64 = 0
        while true {
            var filled = 0
            while filled < chunkSize {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, chunkSize - filled) }
                if n < 0 {
                    if errno == EINTR { continue }
                    return Problem(path: entry.path, message: "read error: \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                filled += n
            }
            if filled == 0 { break }
            total += Int64(filled)
            if index >= entry.chunks.hashes.count || RFC9162.leafHash(buffer[0..<filled]) != entry.chunks.hashes[index] {
                badChunks.append(index)
            }
            index += 1
            if filled < chunkSize { break }
        }
        report.filesChecked += 1
        report.bytesChecked += total
        if total != entry.chunks.size {
            return Problem(path: entry.path, message: "size is \(total) bytes, manifest says \(entry.chunks.size)")
        }
        if !badChunks.isEmpty {
            let shown = badChunks.prefix(8).map(String.init).joined(separator: ", ")
            let more = badChunks.count > 8 ? ", …" : ""
            return Problem(path: entry.path, message: "content does not match the manifest: \(badChunks.count) of \(entry.chunks.hashes.count) chunks differ (chunk \(shown)\(more))")
        }
        return nil
    }

    private func unlistedFiles(_ verified: VerifiedManifest) -> [Problem] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var problems: [Problem] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: directory + "/" + relative, isDirectory: &isDirectory)
            if isDirectory.boolValue || relative == "manifest.json" { continue }
            if verified.entry(for: relative) == nil {
                problems.append(Problem(path: relative, message: "not listed in the signed manifest"))
            }
        }
        return problems.sorted { $0.path < $1.path }
    }

    private func checkPlaylists(_ verified: VerifiedManifest) -> [Problem] {
        let manifest = verified.manifest
        var problems: [Problem] = []
        func text(_ path: String) -> String? {
            guard verified.entry(for: path) != nil, let data = try? AtomicFile.read(directory + "/" + path, limit: 16 << 20) else {
                problems.append(Problem(path: path, message: "playlist missing from the directory or the manifest"))
                return nil
            }
            return String(decoding: data, as: UTF8.self)
        }
        if let masterText = text(manifest.master) {
            do {
                let master = try MasterPlaylist.parse(masterText)
                problems += master.violations().map { Problem(path: manifest.master, message: "\($0)") }
                let uris = master.variants.map(\.uri)
                if uris != manifest.renditions.map(\.playlist) {
                    problems.append(Problem(path: manifest.master, message: "variant URIs \(uris) do not match the manifest's renditions"))
                }
            } catch {
                problems.append(Problem(path: manifest.master, message: "\(error)"))
            }
        }
        for rendition in manifest.renditions {
            guard let playlistText = text(rendition.playlist) else { continue }
            do {
                let media = try MediaPlaylist.parse(playlistText)
                problems += media.violations().map { Problem(path: rendition.playlist, message: "\($0)") }
                let base = rendition.playlist.split(separator: "/").dropLast().joined(separator: "/")
                let resolve = { (uri: String) in base.isEmpty ? uri : base + "/" + uri }
                let listed = media.segments.map { ContentManifest.Segment(path: resolve($0.uri), durationUs: $0.durationUs) }
                if listed != rendition.segments {
                    problems.append(Problem(path: rendition.playlist, message: "segment list does not match the manifest's rendition \(rendition.id)"))
                }
                if media.mapURI.map(resolve) != rendition.initSegment {
                    problems.append(Problem(path: rendition.playlist, message: "EXT-X-MAP does not match the manifest's init segment"))
                }
            } catch {
                problems.append(Problem(path: rendition.playlist, message: "\(error)"))
            }
        }
        return problems
    }
}
