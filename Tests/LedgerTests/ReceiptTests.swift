import Foundation
import Manifest
import Testing
@testable import Ledger

@Suite struct ReceiptTests {
    static let origin = "edgenode.ledger/demo"
    static let signer = try! NoteSigner.generate(name: "origin.demo")

    static func book() throws -> LedgerBook {
        var book = LedgerBook()
        for index in 0..<40 {
            let artist = index % 3 == 0 ? "luna" : "sol"
            let transfer = try Transfer(idempotencyKey: "r\(index)", kind: .royalty, postings: [
                .init(.debit, try Account(parsing: "external/spotify/EUR"), 1_000 + Int64(index)),
                .init(.credit, try Account(parsing: "artist/\(artist)/EUR"), 1_000 + Int64(index))])
            _ = try book.commit(transfer, at: 1_000 * Int64(index))
        }
        return book
    }

    static func checkpoint(_ book: LedgerBook, signer: NoteSigner = signer, origin: String = origin) throws -> SignedNote {
        try signer.sign(text: try Checkpoint(origin: origin, size: book.entries.count, root: book.log.root()).text)
    }

    @Test func anArtistsReceiptVerifiesOffline() throws {
        let book = try Self.book()
        let receipt = try Receipt.make(artist: "luna", from: 5_000, to: 30_000, book: book, signedCheckpoint: try Self.checkpoint(book))
        #expect(receipt.entries.map(\.index) == [6, 9, 12, 15, 18, 21, 24, 27])
        // Round trip through the file format, then verify with nothing but the public key.
        let file = try JSONEncoder().encode(receipt)
        let entries = try ReceiptVerifier.verify(try JSONDecoder().decode(Receipt.self, from: file), verifier: Self.signer.verifier,
                                                 logOrigin: Self.origin)
        #expect(entries.map(\.transfer.postings[1].amount) == [1_006, 1_009, 1_012, 1_015, 1_018, 1_021, 1_024, 1_027])
    }

    @Test func tamperingIsDetected() throws {
        let book = try Self.book()
        let receipt = try Receipt.make(artist: "luna", from: 0, to: 40_000, book: book, signedCheckpoint: try Self.checkpoint(book))
        func rejects(_ change: (inout Receipt) throws -> Void, _ expected: String, verifier: NoteVerifier = Self.signer.verifier) throws {
            var copy = receipt
            try change(&copy)
            do {
                _ = try ReceiptVerifier.verify(copy, verifier: verifier, logOrigin: Self.origin)
                Issue.record("accepted: \(expected)")
            } catch {
                #expect(error.description.contains(expected), "\(error)")
            }
        }
        // An edited amount (re-balanced, so it still decodes): its leaf no longer hashes into the signed root.
        try rejects({ receipt in
            var entry = try EntryEncoding.decode(Array(Data(base64Encoded: receipt.entries[2].leaf)!))
            let postings = entry.transfer.postings.map { Transfer.Posting($0.side, $0.account, $0.amount + 100) }
            entry = LedgerEntry(index: entry.index, committedAt: entry.committedAt,
                                transfer: try Transfer(idempotencyKey: entry.transfer.idempotencyKey, kind: entry.transfer.kind, postings: postings))
            receipt.entries[2].leaf = Data(EntryEncoding.encode(entry)).base64EncodedString()
        }, "not in the signed log")
        try rejects({ $0.entries.swapAt(1, 2) }, "out of order")
        try rejects({ $0.entries[3].index += 1 }, "the leaf says index")
        try rejects({ $0.entries[0].proof.removeLast() }, "not in the signed log")
        try rejects({ $0.artist = "sol" }, "no posting on sol")
        try rejects({ $0.to = 10_000 }, "outside the receipt's period")
        // A checkpoint signed by another key, or for another log.
        let forger = try NoteSigner.generate(name: "origin.demo")
        try rejects({ $0.checkpoint = try Self.checkpoint(book, signer: forger).rendered }, "checkpoint")
        try rejects({ $0.checkpoint = try Self.checkpoint(book, origin: "edgenode.ledger/other").rendered }, "not this ledger")
        try rejects({ _ in }, "checkpoint", verifier: forger.verifier)
    }
}
