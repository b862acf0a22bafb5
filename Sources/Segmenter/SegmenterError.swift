import Manifest

/// Everything that can stop a publish, each naming the file and the reason.
public enum SegmenterError: Error, Equatable, Sendable, CustomStringConvertible {
    case inputMissing(path: String)
    case inputNotRegularFile(path: String)
    case inputUnreadable(path: String, reason: String)
    case inputEmpty(path: String)
    case notMedia(path: String, reason: String)
    case truncated(path: String, reason: String)
    case readFailed(path: String, reason: String)
    case noUsableStream(path: String, found: String)
    case unsupportedCodec(path: String, detail: String)
    case outputExists(path: String)
    case outputParentMissing(path: String)
    case writeFailed(path: String, reason: String)
    case muxFailed(operation: String, reason: String)
    case invalidOption(String)
    case cancelled
    case manifest(ManifestError)

    public var description: String {
        switch self {
        case .inputMissing(let path): "\(path): no such file"
        case .inputNotRegularFile(let path): "\(path): not a regular file"
        case .inputUnreadable(let path, let reason): "\(path): cannot be read (\(reason))"
        case .inputEmpty(let path): "\(path): file is empty"
        case .notMedia(let path, let reason): "\(path): not a media file libav can read (\(reason))"
        case .truncated(let path, let reason): "\(path): media is truncated or corrupt (\(reason))"
        case .readFailed(let path, let reason): "\(path): read failed (\(reason))"
        case .noUsableStream(let path, let found): "\(path): no usable audio or video stream (found: \(found))"
        case .unsupportedCodec(let path, let detail): "\(path): \(detail)"
        case .outputExists(let path): "\(path): output directory already exists (use --force to replace it)"
        case .outputParentMissing(let path): "\(path): parent directory does not exist"
        case .writeFailed(let path, let reason): "\(path): write failed (\(reason))"
        case .muxFailed(let operation, let reason): "muxing failed in \(operation) (\(reason))"
        case .invalidOption(let why): "invalid option: \(why)"
        case .cancelled: "cancelled; no output was published"
        case .manifest(let error): "manifest: \(error)"
        }
    }
}
