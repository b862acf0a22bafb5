import CLibAV

/// Small helpers over the libav C API.
enum LibAV {
    /// The text of a libav error code.
    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(AV_ERROR_MAX_STRING_SIZE))
        return buffer.withUnsafeMutableBufferPointer { pointer in
            String(cString: shim_av_err2str(code, pointer.baseAddress, pointer.count))
        }
    }

    /// "59.27.100" from a packed AV_VERSION_INT.
    static func versionString(_ packed: UInt32) -> String {
        "\(packed >> 16).\((packed >> 8) & 0xff).\(packed & 0xff)"
    }

    /// The versions of the linked libraries.
    static var versions: (avformat: String, avcodec: String, avutil: String) {
        (versionString(avformat_version()), versionString(avcodec_version()), versionString(avutil_version()))
    }

    /// Microseconds.
    static let microseconds = AVRational(num: 1, den: 1_000_000)

    /// Keeps libav quiet on standard error; its last error line is kept for `message(_:)`.
    static func captureLog() {
        shim_capture_log()
    }

    /// libav's own last error line, if any ("moov atom not found").
    static var lastLogLine: String? {
        let line = String(cString: shim_last_log_line())
        return line.isEmpty ? nil : line
    }

    /// The error code's text, plus what libav logged about it.
    static func detail(_ code: Int32) -> String {
        let text = message(code)
        guard let logged = lastLogLine, logged != text else { return text }
        return "\(text): \(logged)"
    }
}
