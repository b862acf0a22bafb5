import CLibAV
import Foundation
import Manifest

/// What to publish and how.
public struct PublishOptions: Sendable {
    public var inputPath: String
    public var outputPath: String
    public var format: SegmentFormat = .ts
    /// Target segment duration (`--hls-time`), microseconds.
    public var targetDurationUs: Int64 = 6_000_000
    /// Defaults to the output directory's name.
    public var contentID: String?
    public var artistID = "unassigned"
    /// Defaults to the input file's name without extension.
    public var title: String?
    /// The recording's ISRC, in any written form (`US-RC1-76-07839`); recorded as its twelve characters.
    public var isrc: String?
    /// Replace an existing output directory.
    public var force = false
    /// fsync every file and directory before the output becomes visible.
    public var durable = true

    public init(inputPath: String, outputPath: String) {
        self.inputPath = inputPath
        self.outputPath = outputPath
    }
}

/// The outcome of a publish.
public struct PublishReport: Sendable {
    public let outputPath: String
    public let manifest: ContentManifest
    public let rendition: SegmentationResult
    public let targetDurationUs: Int64
    /// The longest segment; above the target when the input's GOPs are longer than the target.
    public var longestSegmentUs: Int64 { rendition.segments.map(\.durationUs).max() ?? 0 }
    public var totalBytes: Int64 { manifest.files.reduce(0) { $0 + $1.size } }
}

/// The origin's publishing pipeline: remux into HLS, write playlists, build and sign the Merkle manifest, all in a
/// hidden temporary directory that is renamed into place only when complete. Nothing that looks complete is left
/// behind on failure.
public enum Publisher {
    /// The twelve characters of an ISRC written in any accepted form; a bad one is an invalid option.
    static func isrc(_ text: String?) throws(SegmenterError) -> String? {
        guard let text else { return nil }
        do {
            return try ISRC(text).code
        } catch {
            throw .invalidOption("--isrc: \(error)")
        }
    }

    public static let manifestName = "manifest.json"
    public static let masterName = "master.m3u8"

    public static func publish(
        _ options: PublishOptions, signer: NoteSigner,
        progress: (@Sendable (Double) -> Void)? = nil,
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws(SegmenterError) -> PublishReport {
        guard options.targetDurationUs >= 100_000 && options.targetDurationUs <= 120_000_000 else {
            throw .invalidOption("--hls-time must be between 0.1 and 120 seconds")
        }
        let output = URL(fileURLWithPath: options.outputPath).standardizedFileURL
        let outputPath = output.path
        let parent = output.deletingLastPathComponent().path
        let name = output.lastPathComponent
        let contentID = options.contentID ?? name
        let description = ContentManifest.Description(
            contentID: contentID, artistID: options.artistID,
            title: options.title ?? URL(fileURLWithPath: options.inputPath).deletingPathExtension().lastPathComponent,
            format: options.format.rawValue,
            libav: .init(avformat: LibAV.versions.avformat, avcodec: LibAV.versions.avcodec, avutil: LibAV.versions.avutil),
            chunkSize: ChunkHasher.defaultChunkSize, master: masterName, renditions: [], isrc: try Self.isrc(options.isrc))
        do throws(ManifestError) {
            try ContentManifest.validateIdentifier(description.contentID, field: "content id")
            try ContentManifest.validateIdentifier(description.artistID, field: "artist id")
        } catch {
            throw .manifest(error)
        }
        guard description.title.utf8.count <= 1024, !description.title.contains(where: \.isNewline) else {
            throw .invalidOption("--title must be one line of at most 1024 bytes")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .outputParentMissing(path: outputPath)
        }
        let exists = FileManager.default.fileExists(atPath: outputPath)
        if exists && !options.force { throw .outputExists(path: outputPath) }

        let staging = try makeStagingDirectory(parent: parent, name: name)
        do {
            let report = try build(options, description: description, staging: staging, outputPath: outputPath,
                                   signer: signer, progress: progress, isCancelled: isCancelled)
            try install(staging: staging, outputPath: outputPath, replacing: exists, parent: parent, durable: options.durable)
            return report
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }

    private static func build(
        _ options: PublishOptions, description: ContentManifest.Description, staging: String, outputPath: String,
        signer: NoteSigner, progress: (@Sendable (Double) -> Void)?, isCancelled: @escaping @Sendable () -> Bool
    ) throws(SegmenterError) -> PublishReport {
        LibAV.captureLog()
        let segmenter = HLSSegmenter(inputPath: options.inputPath, format: options.format,
                                     targetDurationUs: options.targetDurationUs, durable: options.durable,
                                     progress: progress, isCancelled: isCancelled)
        let result = try segmenter.run(into: staging)
        if isCancelled() { throw .cancelled }
        var files = result.files
        let id = result.renditionID
        let media = MediaPlaylist.vod(
            segments: result.segments.map { .init(durationUs: $0.durationUs, uri: String($0.relativePath.dropFirst(id.count + 1))) },
            mapURI: result.initSegment.map { String($0.dropFirst(id.count + 1)) })
        let playlistPath = "\(id)/index.m3u8"
        files[playlistPath] = try writeSmallFile(Data(media.render().utf8), staging: staging, relativePath: playlistPath, durable: options.durable)

        let (peak, average) = bandwidth(result.segments)
        let rendition = ContentManifest.Rendition(
            id: id, playlist: playlistPath, initSegment: result.initSegment, bandwidth: peak, averageBandwidth: average,
            codecs: result.codecs, resolution: result.resolution, frameRate: result.frameRate,
            targetDuration: media.targetDuration,
            segments: result.segments.map { .init(path: $0.relativePath, durationUs: $0.durationUs) })
        let master = MasterPlaylist(independentSegments: true, variants: [
            .init(bandwidth: peak, averageBandwidth: average, codecs: result.codecs, resolution: result.resolution,
                  frameRate: result.frameRate, uri: playlistPath),
        ])
        files[masterName] = try writeSmallFile(Data(master.render().utf8), staging: staging, relativePath: masterName, durable: options.durable)

        var full = description
        full.renditions = [rendition]
        let manifest: ContentManifest
        do {
            manifest = try ContentManifest.build(description: full, files: files, signer: signer)
        } catch {
            throw .manifest(error)
        }
        _ = try writeSmallFile(manifest.jsonData(), staging: staging, relativePath: manifestName, durable: options.durable)
        return PublishReport(outputPath: outputPath, manifest: manifest, rendition: result,
                             targetDurationUs: options.targetDurationUs)
    }

    /// Peak and mean segment bit rates in bits per second, rounded up (RFC 8216 §4.3.4.2 BANDWIDTH and
    /// AVERAGE-BANDWIDTH).
    static func bandwidth(_ segments: [SegmentationResult.Segment]) -> (peak: Int, average: Int) {
        func rate(bytes: Int64, us: Int64) -> Int {
            guard us > 0 else { return 0 }
            let bits = bytes * 8 * 1_000_000
            return Int((bits + us - 1) / us)
        }
        let peak = segments.map { rate(bytes: $0.size, us: $0.durationUs) }.max() ?? 0
        let average = rate(bytes: segments.reduce(0) { $0 + $1.size }, us: segments.reduce(0) { $0 + $1.durationUs })
        return (max(peak, 1), max(min(average, peak), 1))
    }

    private static func writeSmallFile<Bytes: DataProtocol>(
        _ content: Bytes, staging: String, relativePath: String, durable: Bool
    ) throws(SegmenterError) -> ChunkList {
        let data = Data(content)
        let path = staging + "/" + relativePath
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .writeFailed(path: relativePath, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        if let failure = data.withUnsafeBytes({ writeAll(fd, $0) }) {
            throw .writeFailed(path: relativePath, reason: String(cString: strerror(failure)))
        }
        guard !durable || fsync(fd) == 0 else {
            throw .writeFailed(path: relativePath, reason: String(cString: strerror(errno)))
        }
        return ChunkHasher.chunkList(of: data)
    }

    private static func makeStagingDirectory(parent: String, name: String) throws(SegmenterError) -> String {
        var template = Array("\(parent)/.\(name).partial-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw .writeFailed(path: parent, reason: String(cString: strerror(errno)))
        }
        let path = String(cString: made)
        chmod(path, 0o755)
        return path
    }

    private static func install(staging: String, outputPath: String, replacing: Bool, parent: String, durable: Bool) throws(SegmenterError) {
        if durable {
            try syncDirectories(under: staging)
        }
        if replacing {
            let retired = "\(staging).old"
            guard rename(outputPath, retired) == 0 else {
                throw .writeFailed(path: outputPath, reason: "cannot move the old output aside: \(String(cString: strerror(errno)))")
            }
            guard rename(staging, outputPath) == 0 else {
                let reason = String(cString: strerror(errno))
                _ = rename(retired, outputPath)
                throw .writeFailed(path: outputPath, reason: reason)
            }
            try? FileManager.default.removeItem(atPath: retired)
        } else if rename(staging, outputPath) != 0 {
            throw .writeFailed(path: outputPath, reason: String(cString: strerror(errno)))
        }
        if durable { syncDirectory(parent) }
    }

    private static func syncDirectories(under root: String) throws(SegmenterError) {
        let enumerator = FileManager.default.enumerator(atPath: root)
        var directories = [root]
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), isDirectory.boolValue {
                directories.append(root + "/" + relative)
            }
        }
        for directory in directories { syncDirectory(directory) }
    }

    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
