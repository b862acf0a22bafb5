import Foundation
import Testing
import TestSupport
@testable import Manifest

/// The emergency flag's format and the checks every node applies before taking one.
@Suite struct EmergencyFlagTests {
    static let now: Int64 = 1_796_000_000
    static let operatorKey = try! NoteSigner.generate(name: "operator-alice")
    static let check = EmergencyFlagCheck(fleet: "artist-first", operatorKeys: [operatorKey.verifier], maximumSkewSeconds: 300)

    static func flag(fleet: String = "artist-first", epoch: UInt64 = 7, on: Bool = true, issuedAt: Int64 = now,
                     reason: String = "hosting cut off in eu-west") throws -> EmergencyFlag {
        try EmergencyFlag(fleet: fleet, epoch: epoch, on: on, issuedAt: issuedAt, reason: reason)
    }

    static func bytes(_ note: SignedNote) -> [UInt8] { Array(note.rendered.utf8) }

    @Test func theTextIsSixCanonicalLinesAndRoundTrips() throws {
        let flag = try Self.flag()
        #expect(flag.text == "edgenode.emergency\nartist-first\n7\non\n\(Self.now)\nhosting cut off in eu-west\n")
        #expect(try EmergencyFlag(text: flag.text) == flag)
        let off = try Self.flag(epoch: 8, on: false)
        #expect(try EmergencyFlag(text: off.text).on == false)
    }

    @Test func malformedBodiesAreRefusedWithTheReason() throws {
        let good = try Self.flag().text
        let cases: [(String, String)] = [
            (good.replacingOccurrences(of: "edgenode.emergency", with: "edgenode.other"), "origin line"),
            (good.replacingOccurrences(of: "\n7\n", with: "\n07\n"), "epoch line"),
            (good.replacingOccurrences(of: "\n7\n", with: "\n-7\n"), "epoch line"),
            (good.replacingOccurrences(of: "\non\n", with: "\nON\n"), "mode line"),
            (good.replacingOccurrences(of: "\n\(Self.now)\n", with: "\n1e9\n"), "issue time"),
            (String(good.dropLast()), "newline"),
            (good + "extra\n", "6 lines"),
            (good.replacingOccurrences(of: "hosting cut off in eu-west", with: String(repeating: "x", count: 201)), "reason"),
            (good.replacingOccurrences(of: "hosting", with: "host\u{7F}ing"), "reason"),
        ]
        for (text, why) in cases {
            #expect(throws: NoteError.self, "\(why)") { try EmergencyFlag(text: text) }
            do {
                _ = try EmergencyFlag(text: text)
            } catch {
                #expect(error.description.contains(why), "\(error.description) should name \(why)")
            }
        }
    }

    @Test func aFlagSignedByAnOperatorKeyIsTaken() throws {
        let note = try Self.flag().signed(by: Self.operatorKey)
        #expect(try Self.check.check(Self.bytes(note), held: nil, now: Self.now).get() == Self.flag())
        #expect(try Self.check.check(Self.bytes(note), held: 6, now: Self.now + 300).get().epoch == 7, "at the skew limit")
    }

    /// Each refusal names its reason; the checks run in a fixed order.
    @Test func forgedReplayedOlderOtherFleetSkewedOversizedAndMalformedFlagsAreRefused() throws {
        let note = try Self.flag().signed(by: Self.operatorKey)
        func refusal(_ bytes: [UInt8], held: UInt64? = nil, now: Int64 = Self.now) -> EmergencyFlagCheck.Refusal? {
            if case .failure(let refusal) = Self.check.check(bytes, held: held, now: now) { refusal } else { nil }
        }
        let forged = note.rendered.replacingOccurrences(of: "eu-west", with: "us-east")
        #expect(refusal(Array(forged.utf8)) == .badSignature(key: "operator-alice"), "text changed after signing")
        let stranger = try NoteSigner.generate(name: "operator-alice")
        #expect(refusal(Self.bytes(try Self.flag().signed(by: stranger))) == .unknownKey, "same name, another key")
        let originKey = try NoteSigner.generate(name: "origin-1")
        #expect(refusal(Self.bytes(try Self.flag().signed(by: originKey))) == .unknownKey, "an origin key is not an operator key")
        #expect(refusal(Self.bytes(note), held: 7) == .notNewer(epoch: 7, held: 7), "replayed")
        #expect(refusal(Self.bytes(note), held: 9) == .notNewer(epoch: 7, held: 9), "older")
        #expect(refusal(Self.bytes(try Self.flag(fleet: "someone-else").signed(by: Self.operatorKey))) == .otherFleet("someone-else"))
        #expect(refusal(Self.bytes(note), now: Self.now + 301) == .clockSkew(seconds: -301), "issued too long ago")
        #expect(refusal(Self.bytes(note), now: Self.now - 301) == .clockSkew(seconds: 301), "issued in the future")
        #expect(refusal(Self.bytes(try Self.flag(issuedAt: 0).signed(by: Self.operatorKey)), now: .max)?.label == "clock_skew",
                "no overflow")
        // Through gossip a flag issued long ago is still taken (a node back from a partition converges); one from
        // the future is not.
        #expect((try? Self.check.check(Self.bytes(note), held: 6, now: Self.now + 86_400, fromGossip: true).get()) == (try Self.flag()))
        if case .failure(let refused) = Self.check.check(Self.bytes(note), held: nil, now: Self.now - 301, fromGossip: true) {
            #expect(refused == .clockSkew(seconds: 301))
        } else {
            Issue.record("a flag from the future was taken through gossip")
        }
        #expect(refusal(Array(repeating: 0x41, count: 513)) == .tooLarge(bytes: 513))
        #expect(Self.bytes(note).count < EmergencyFlag.maximumNoteBytes / 2, "room for more signatures")
        #expect(refusal([0xFF, 0xFE])?.label == "malformed", "not UTF-8")
        #expect(refusal(Array(try Self.flag().text.utf8))?.label == "malformed", "unsigned")
        #expect(refusal([])?.label == "malformed")
    }

    /// Issue 24 (5): a flag whose note carries any signature line that is not a verified operator key's — markup in
    /// the name, an unknown key, a second operator's line that does not verify — is refused, so no status can ever
    /// name a signer who did not sign.
    @Test func everySignatureLineMustBeAVerifiedOperator() throws {
        let bob = try NoteSigner.generate(name: "operator-bob")
        let check = EmergencyFlagCheck(fleet: "artist-first", operatorKeys: [Self.operatorKey.verifier, bob.verifier], maximumSkewSeconds: 300)
        let note = try Self.flag().signed(by: Self.operatorKey)
        let mallory = try Self.flag().signed(by: try NoteSigner.generate(name: "<b>mallory</b>"))
        let extraLine = String(mallory.rendered.split(separator: "\n").last!) + "\n"
        func refusal(_ text: String) -> EmergencyFlagCheck.Refusal? {
            if case .failure(let refusal) = check.check(Array(text.utf8), held: nil, now: Self.now) { refusal } else { nil }
        }
        #expect(refusal(note.rendered) == nil)
        #expect(refusal(note.rendered + extraLine) == .unverifiedSigner, "an extra line of an unknown key")
        #expect(refusal(note.rendered + extraLine)?.label == "unverified_signer")
        let bobLine = String(try Self.flag(epoch: 8).signed(by: bob).rendered.split(separator: "\n").last!) + "\n"
        #expect(refusal(note.rendered + bobLine) == .badSignature(key: "operator-bob"), "a second operator's line over other text")
        let both = try Self.flag().signed(by: bob)
        let cosigned = note.rendered + String(both.rendered.split(separator: "\n").last!) + "\n"
        #expect(refusal(cosigned) == nil, "two operators who both signed")
        let twice = note.rendered + String(note.rendered.split(separator: "\n").last!) + "\n"
        #expect(refusal(twice) == .unverifiedSigner, "one operator's line twice names it twice")
    }

    /// The epoch has a ceiling far below the 64-bit bound, so a flag can never take the last epoch and lock the mode.
    @Test func theEpochCeilingHoldsFromBothSides() throws {
        #expect(try Self.flag(epoch: EmergencyFlag.maximumEpoch).epoch == EmergencyFlag.maximumEpoch)
        #expect(throws: NoteError.self) { try Self.flag(epoch: EmergencyFlag.maximumEpoch + 1) }
        let text = try Self.flag().text.replacingOccurrences(of: "\n7\n", with: "\n\(UInt64.max)\n")
        #expect(throws: NoteError.self) { try EmergencyFlag(text: text) }
    }

    /// Mutated signed flags never trap, and none is taken unless its signed text is exactly the original.
    @Test(arguments: 0..<4)
    func mutatedFlagsAreNeverTakenChanged(seed: UInt64) throws {
        let original = try Self.flag()
        let bytes = Self.bytes(try original.signed(by: Self.operatorKey))
        var generator = SeededGenerator(seed: seed)
        let noise = Array("0123456789onf\n \u{2014}+=/-".utf8) + [0x00, 0xFF, 0x7F]
        for _ in 0..<2_000 {
            let mutated = ManifestFuzzTests.mutate(bytes, &generator, noise: noise)
            if case .success(let taken) = Self.check.check(mutated, held: nil, now: Self.now) {
                #expect(taken == original, "a changed flag passed: \(String(decoding: mutated, as: UTF8.self))")
            }
        }
    }
}
