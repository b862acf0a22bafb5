/// Content types and cache lifetimes for what a node serves.
public enum MediaType {
    /// The `Content-Type` for a file name (RFC 8216 §4 and Apple's HLS authoring spec 10.4 for HLS files).
    public static func forFile(_ name: Substring) -> String {
        switch fileExtension(name) {
        case "m3u8": "application/vnd.apple.mpegurl"
        case "ts": "video/mp2t"
        case "m4s": "video/iso.segment"
        case "mp4": "video/mp4"
        case "m4a": "audio/mp4"
        case "aac": "audio/aac"
        case "json": "application/json"
        case "vtt": "text/vtt"
        case "txt": "text/plain; charset=utf-8"
        case "html": "text/html; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    /// `Cache-Control` for a file: media segments and VOD playlists never change once published; the manifest and
    /// live playlists are short-lived.
    public static func cacheControl(forFile name: Substring, isVODPlaylist: Bool) -> String {
        // Nothing is `immutable`: `edgenode segment --force` republishes new bytes under the same URLs, so every
        // cache downstream revalidates after a few seconds (cheap: the ETag is the chunk root, a 304 when nothing
        // changed). Segments expire with their playlists, so that a republished playlist is not paired for long
        // with a segment of the old version.
        switch fileExtension(name) {
        case "m3u8": isVODPlaylist ? "public, max-age=10" : "public, max-age=1"
        default: "public, max-age=10"
        }
    }

    static func fileExtension(_ name: Substring) -> Substring {
        guard let dot = name.lastIndex(of: "."), !name[name.index(after: dot)...].contains("/") else { return "" }
        return name[name.index(after: dot)...]
    }
}
