extension ContentManifest.File {
    /// Decodes and checks the chunk hashes: the count must fit the size and the hashes must rebuild `chunkRoot`.
    public func chunkList(chunkSize: Int) throws(ManifestError) -> ChunkList {
        guard size >= 0 else { throw .badChunkList(path: path, reason: "negative size") }
        guard let raw = Base64.decode(chunks), raw.count % MerkleHash.byteCount == 0 else {
            throw .badChunkList(path: path, reason: "chunks is not base64 of 32-byte hashes")
        }
        var hashes: [MerkleHash] = []
        hashes.reserveCapacity(raw.count / MerkleHash.byteCount)
        var offset = 0
        while offset < raw.count {
            hashes.append(MerkleHash(bytes: raw[offset..<offset + MerkleHash.byteCount])!)
            offset += MerkleHash.byteCount
        }
        let list = ChunkList(size: size, chunkSize: chunkSize, hashes: hashes)
        guard hashes.count == list.expectedChunkCount else {
            throw .badChunkList(path: path, reason: "\(hashes.count) chunk hashes for \(list.expectedChunkCount) chunks")
        }
        guard list.root.hex == chunkRoot.lowercased() else {
            throw .badChunkList(path: path, reason: "chunk hashes do not rebuild chunkRoot")
        }
        return list
    }
}
