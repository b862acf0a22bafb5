import Control
import Foundation
import Ledger
import Manifest
import Testing

/// An auditor with an export and the origin's public key catches every kind of tampering.
@Suite struct LogAuditTests {
    static let log = LedgerModule.defaultLogOrigin

    /// A signed export of `count` entries built from the in-memory book.
    static func export(count: Int, signer: NoteSigner) throws -> (LedgerExport, Checkpoint, String) {
        var book = LedgerBook()
        for index in 0..<count {
            let transfer = try Transfer(idempotencyKey: "k\(index)", kind: .royalty, postings: [
                .init(.debit, try Account(parsing: "external/dsp/EUR"), Int64(10 + index)),
                .init(.credit, try Account(parsing: "artist/a\(index % 3)/EUR"), Int64(10 + index))])
            _ = try book.commit(transfer, at: 1_000 + Int64(index))
        }
        let note = try signer.sign(text: try Checkpoint(origin: log, size: count, root: book.log.root()).text)
        let export = LedgerExport(log: log, start: 0, end: count, checkpoint: note.rendered, entries: book.entries.map(Views.Entry.init))
        return (export, try Checkpoint(text: note.text), note.rendered)
    }

    static func failure(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no failure"
        } catch {
            return "\(error)"
        }
    }

    @Test func tamperingIsCaught() throws {
        let signer = try NoteSigner.generate(name: "origin")
        let (export, checkpoint, note) = try Self.export(count: 20, signer: signer)
        #expect(try LogAudit.audit(export, checkpoint: checkpoint, earlier: nil).volume["EUR"] == (0..<20).reduce(Int64(0)) { $0 + Int64(10 + $1) })
        #expect(try LogAudit.checkpoint(note, verifier: signer.verifier, log: Self.log) == checkpoint)

        var edited = export
        edited.entries[4].postings[1].amount += 1
        #expect(Self.failure { _ = try LogAudit.audit(edited, checkpoint: checkpoint, earlier: nil) }.contains("entry 4: the readable columns differ"))

        var reLeafed = export
        var leaf = Array(Data(base64Encoded: reLeafed.entries[7].leaf)!)
        leaf[leaf.count - 1] ^= 1
        reLeafed.entries[7].leaf = Data(leaf).base64EncodedString()
        #expect(Self.failure { _ = try LogAudit.audit(reLeafed, checkpoint: checkpoint, earlier: nil) }.contains("entry 7: leaf_hash is not the hash"))

        // A consistent forgery (new leaf, its hash, its columns) still cannot match the signed root.
        var forged = export
        let original = try EntryEncoding.decode(Array(Data(base64Encoded: export.entries[3].leaf)!))
        let richer = LedgerEntry(index: 3, committedAt: original.committedAt, transfer: try Transfer(
            idempotencyKey: original.transfer.idempotencyKey, kind: .royalty, postings: [
                .init(.debit, try Account(parsing: "external/dsp/EUR"), 1_000_000), .init(.credit, try Account(parsing: "artist/a0/EUR"), 1_000_000)]))
        forged.entries[3] = Views.Entry(richer)
        #expect(Self.failure { _ = try LogAudit.audit(forged, checkpoint: checkpoint, earlier: nil) }.contains("rebuild root"))

        var reordered = export
        reordered.entries.swapAt(2, 3)
        #expect(Self.failure { _ = try LogAudit.audit(reordered, checkpoint: checkpoint, earlier: nil) }.contains("position 2 says index 3"))

        var deleted = export
        deleted.entries.remove(at: 19)
        #expect(Self.failure { _ = try LogAudit.audit(deleted, checkpoint: checkpoint, earlier: nil) }.contains("19 entries but the checkpoint covers 20"))

        let other = try NoteSigner.generate(name: "origin")
        #expect(Self.failure { _ = try LogAudit.checkpoint(note, verifier: other.verifier, log: Self.log) }.contains("does not verify"))
        #expect(Self.failure { _ = try LogAudit.checkpoint(note, verifier: signer.verifier, log: "another.log") }.contains("not \"another.log\""))
    }

    @Test func anEarlierCheckpointMustStillBeAPrefix() throws {
        let signer = try NoteSigner.generate(name: "origin")
        let (export, checkpoint, _) = try Self.export(count: 20, signer: signer)
        let (_, earlier, _) = try Self.export(count: 12, signer: signer)
        #expect(throws: Never.self) { try LogAudit.audit(export, checkpoint: checkpoint, earlier: earlier) }
        // A log rebuilt with a different 7th entry but re-signed: consistent with itself, not with what was seen.
        var book = LedgerBook()
        for index in 0..<20 {
            let amount = Int64(index == 6 ? 999 : 10 + index)
            _ = try book.commit(try Transfer(idempotencyKey: "k\(index)", kind: .royalty, postings: [
                .init(.debit, try Account(parsing: "external/dsp/EUR"), amount),
                .init(.credit, try Account(parsing: "artist/a\(index % 3)/EUR"), amount)]), at: 1_000 + Int64(index))
        }
        let rewritten = LedgerExport(log: Self.log, start: 0, end: 20, checkpoint: nil, entries: book.entries.map(Views.Entry.init))
        let resigned = try Checkpoint(text: try signer.sign(text: try Checkpoint(origin: Self.log, size: 20, root: book.log.root()).text).text)
        #expect(Self.failure { _ = try LogAudit.audit(rewritten, checkpoint: resigned, earlier: earlier) }.contains("history was rewritten"))
        let proof = try book.log.consistencyProof(from: 12, to: 20).map(\.hex)
        #expect(Self.failure { try LogAudit.consistency(from: earlier, to: resigned, proof: proof) }.contains("history was rewritten"))
        #expect(Self.failure { try LogAudit.consistency(from: checkpoint, to: earlier, proof: []) }.contains("larger than the current one"))
    }

    @Test func csvRoundTripsQuotedFields() throws {
        let entry = Views.Entry(index: 0, committedAt: 5, idempotencyKey: "k,1", kind: "royalty", memo: "say \"hi\", twice",
                                postings: [Views.Posting(account: "artist/a/EUR", side: "credit", amount: 1)], leaf: "AA==", leafHash: "00")
        let text = ControlAPI.csvHeader + "\n" + ControlAPI.csvLine(entry)
        #expect(try LedgerExport(csv: text).entries == [entry])
        // Keys, memos and leaves that a spreadsheet would take as formulas are neutralised, and read back exactly.
        for (index, text) in ["=HYPERLINK(\"x\")", "@SUM(A1)", "+cmd", "-1+2", "\tx", "\rx", "'=x", "'plain"].enumerated() {
            let hostile = Views.Entry(index: 0, committedAt: 5, idempotencyKey: text, kind: "royalty", memo: text,
                                      postings: [Views.Posting(account: "artist/a/EUR", side: "credit", amount: 1)], leaf: "+A==", leafHash: "00")
            let line = ControlAPI.csvLine(hostile)
            let quoted = "\"'" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            #expect(line == "0,5,\(quoted),royalty,\(quoted),credit:artist/a/EUR:1,00,\"'+A==\"\n", "case \(index): \(line)")
            #expect(try LedgerExport(csv: ControlAPI.csvHeader + "\n" + line).entries == [hostile], "case \(index)")
        }

        #expect(Self.failure { _ = try LedgerExport(csv: "index,nope\n") }.contains("line 1: the header must be"))
        #expect(Self.failure { _ = try LedgerExport(csv: ControlAPI.csvHeader + "\n1,2,3\n") }.contains("line 2: expected 8 fields"))
        #expect(Self.failure { _ = try LedgerExport(csv: ControlAPI.csvHeader + "\n\"open") }.contains("unterminated"))
    }
}
