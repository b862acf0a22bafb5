import Foundation
import Testing
@testable import Manifest

@Suite struct SignedNoteTests {
    // golang.org/x/mod/sumdb/note's documented example: an independent implementation of the same format.
    static let goSigner = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let goVerifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let goText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let goNote = goText + "\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

    @Test func reproducesTheGoReferenceNoteByteForByte() throws {
        let signer = try NoteSigner(encoded: Self.goSigner)
        #expect(signer.verifier.encoded == Self.goVerifier)
        #expect(signer.encoded == Self.goSigner)
        #expect(try signer.sign(text: Self.goText).rendered == Self.goNote)
        try SignedNote(parsing: Self.goNote).verify(with: NoteVerifier(encoded: Self.goVerifier))
    }

    @Test func verifiesTheC2SPSpecificationExample() throws {
        let verifier = try NoteVerifier(encoded: "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
        let note = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
        try SignedNote(parsing: note).verify(with: verifier)
    }

    @Test func tamperedTextOrWrongKeyFails() throws {
        let verifier = try NoteVerifier(encoded: Self.goVerifier)
        let tampered = Self.goNote.replacingOccurrences(of: "answer", with: "Answer")
        #expect(throws: NoteError.badSignature(name: "PeterNeumann")) { try SignedNote(parsing: tampered).verify(with: verifier) }
        let other = try NoteSigner.generate(name: "PeterNeumann").verifier
        #expect(throws: NoteError.unknownKey(name: "PeterNeumann")) { try SignedNote(parsing: Self.goNote).verify(with: other) }
    }

    @Test func malformedKeysAreRejected() {
        for bad in ["", "PRIVATE+KEY+x+00000000", "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                    "PeterNeumann+c74f20a3+AhpJ2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "PeterNeumann+c74f20a3+!!!",
                    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"] {
            #expect(throws: NoteError.self, "\(bad)") { try NoteVerifier(encoded: bad) }
        }
        #expect(throws: NoteError.self) { try NoteSigner(encoded: Self.goVerifier) }
        #expect(throws: NoteError.self) { try NoteSigner(encoded: Self.goSigner.replacingOccurrences(of: "c74f20a3", with: "c74f20a4")) }
    }

    @Test func malformedNotesAreRejected() {
        for bad in ["no blank line\n\u{2014} a b\n", "text\n\n", "text\n\nnot a signature\n", "text\n\n\u{2014} a !!!\n",
                    "text\n\n\u{2014} a AAAA\n", "text\n\n\u{2014} a YWJjZGVm"] {
            #expect(throws: NoteError.self, "\(bad.debugDescription)") { try SignedNote(parsing: bad) }
        }
        #expect(throws: NoteError.self) { try SignedNote(parsing: String(repeating: "a", count: SignedNote.maximumSize + 1)) }
    }

    @Test func checkpointRoundTripsAndRejectsBadLines() throws {
        let checkpoint = try Checkpoint(origin: "edgenode.manifest/x", size: 8, root: Vectors.roots[8], extensions: ["ext"])
        #expect(try Checkpoint(text: checkpoint.text) == checkpoint)
        #expect(checkpoint.text == "edgenode.manifest/x\n8\n\(Vectors.roots[8].base64)\next\n")
        for bad in ["o\n08\nAAAA\n", "o\n-1\n\(Vectors.roots[8].base64)\n", "o\n1\nAAAA\n", "o\n1\n", "o\n1\n\(Vectors.roots[8].base64)"] {
            #expect(throws: NoteError.self, "\(bad.debugDescription)") { try Checkpoint(text: bad) }
        }
    }
}
