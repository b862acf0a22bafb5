import Manifest

/// The canonical bytes of a ledger entry — the Merkle log's leaf — version 1. Big-endian integers; strings as a
/// 16-bit length and UTF-8; accounts in their `kind/detail/CUR` text form, postings in transfer order:
///
/// ```
/// entry   := 0x01 index:u64 committed-ms:i64 key:str kind:str memo:str count:u16 posting*
/// posting := account:str side:u8 (0 debit, 1 credit) amount:i64 (minor units)
/// str     := length:u16 utf8-bytes
/// ```
/// The leaf hash is RFC 9162's `SHA-256(0x00 || entry)`. Decoding is strict (every field validated, no trailing
/// bytes), so an auditor can rebuild the root from exported leaves alone.
public enum EntryEncoding {
    public static let version: UInt8 = 1

    public static func encode(_ entry: LedgerEntry) -> [UInt8] {
        var out: [UInt8] = [version]
        put(entry.index, &out)
        put(UInt64(bitPattern: entry.committedAt), &out)
        put(entry.transfer.idempotencyKey, &out)
        put(entry.transfer.kind.rawValue, &out)
        put(entry.transfer.memo, &out)
        put(UInt16(entry.transfer.postings.count), &out)
        for posting in entry.transfer.postings {
            put(posting.account.description, &out)
            out.append(posting.side.rawValue)
            put(UInt64(bitPattern: posting.amount), &out)
        }
        return out
    }

    public static func leafHash(_ entry: LedgerEntry) -> MerkleHash { RFC9162.leafHash(encode(entry)) }

    public static func decode(_ bytes: [UInt8]) throws(LedgerError) -> LedgerEntry {
        var offset = 0
        func take(_ count: Int) throws(LedgerError) -> ArraySlice<UInt8> {
            guard count <= bytes.count - offset else { throw .malformedEntry("truncated at byte \(offset)") }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }
        func integer(_ count: Int) throws(LedgerError) -> UInt64 { try take(count).reduce(0) { $0 << 8 | UInt64($1) } }
        func text() throws(LedgerError) -> String {
            let raw = try take(Int(try integer(2)))
            guard let value = String(validating: raw, as: UTF8.self) else { throw .malformedEntry("invalid UTF-8 at byte \(offset)") }
            return value
        }
        guard try take(1).first == version else { throw .malformedEntry("unsupported version \(bytes.first ?? 0)") }
        let index = try integer(8)
        let committedAt = Int64(bitPattern: try integer(8))
        let key = try text()
        let kindText = try text()
        guard let kind = Transfer.Kind(rawValue: kindText) else { throw .malformedEntry("unknown transfer kind \"\(kindText)\"") }
        let memo = try text()
        let count = Int(try integer(2))
        var postings: [Transfer.Posting] = []
        for _ in 0..<count {
            let account = try Account(parsing: try text())
            guard let side = Transfer.Side(rawValue: try take(1).first!) else { throw .malformedEntry("invalid posting side") }
            postings.append(Transfer.Posting(side, account, Int64(bitPattern: try integer(8))))
        }
        guard offset == bytes.count else { throw .malformedEntry("\(bytes.count - offset) trailing bytes") }
        return LedgerEntry(index: index, committedAt: committedAt,
                           transfer: try Transfer(idempotencyKey: key, kind: kind, postings: postings, memo: memo))
    }

    private static func put(_ text: String, _ out: inout [UInt8]) {
        let bytes = Array(text.utf8)
        put(UInt16(bytes.count), &out)
        out += bytes
    }

    private static func put<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }
}

extension EntryEncoding {
    /// A digest of what was asked (the transfer alone, without its index and commit time): two requests under one
    /// idempotency key are the same request exactly when their digests are equal.
    public static func requestDigest(_ transfer: Transfer) -> [UInt8] {
        Array(RFC9162.leafHash(encode(LedgerEntry(index: 0, committedAt: 0, transfer: transfer))).bytes)
    }
}
