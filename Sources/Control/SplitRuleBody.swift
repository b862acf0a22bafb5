import Foundation
import Ledger
import LedgerStore
import Manifest
import Royalty

/// The JSON body of `POST /v1/splits`: a content's split between collaborators from a day on.
///
/// ```json
/// {"content": "song-1", "effective_from": "2026-12-01",
///  "shares": [{"artist": "luna", "basis_points": 6000}, {"artist": "sol", "basis_points": 4000}]}
/// ```
struct SplitRuleBody: Decodable {
    struct ShareBody: Decodable {
        let artist: String
        let basisPoints: Int

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            try AnyKey.refuseUnknown(container, known: ["artist", "basis_points"])
            artist = try container.decode(String.self, forKey: AnyKey(stringValue: "artist"))
            basisPoints = try container.decode(Int.self, forKey: AnyKey(stringValue: "basis_points"))
        }
    }

    let content: String
    let effectiveFrom: String
    let shares: [ShareBody]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        try AnyKey.refuseUnknown(container, known: ["content", "effective_from", "shares"])
        content = try container.decode(String.self, forKey: AnyKey(stringValue: "content"))
        effectiveFrom = try container.decode(String.self, forKey: AnyKey(stringValue: "effective_from"))
        shares = try container.decode([ShareBody].self, forKey: AnyKey(stringValue: "shares"))
    }

    /// Decodes and validates a body (content id, day, artists, shares summing to 10,000); every failure is a 400
    /// naming what is wrong.
    static func rule(from data: Data) throws -> LedgerStore.StoredSplitRule {
        let body: SplitRuleBody = try TransferBody.decode(data)
        do {
            try ContentManifest.validateIdentifier(body.content, field: "content")
        } catch {
            throw ControlError(.badRequest, "invalid_split", "\(error)")
        }
        guard let day = CalendarDay(body.effectiveFrom) else {
            throw ControlError(.badRequest, "invalid_split", "effective_from: \"\(body.effectiveFrom.prefix(20))\" is not a day YYYY-MM-DD")
        }
        var shares: [Share] = []
        for (index, share) in body.shares.enumerated() {
            guard (try? Account(.artist(share.artist), Currency("EUR"))) != nil else {
                throw ControlError(.badRequest, "invalid_split", "shares[\(index)].artist: \"\(share.artist.prefix(40))\" is not an artist id")
            }
            guard (1...10_000).contains(share.basisPoints) else {
                throw ControlError(.badRequest, "invalid_split", "shares[\(index)].basis_points: \(share.basisPoints) is not within 1...10000")
            }
            shares.append(Share(artist: share.artist, basisPoints: UInt16(share.basisPoints)))
        }
        do {
            let rule = try SplitRule(content: body.content, effectiveFrom: day.startSeconds, shares: shares)
            return LedgerStore.StoredSplitRule(content: rule.content, effectiveFrom: rule.effectiveFrom,
                                               shares: rule.shares.map { .init(artist: $0.artist, basisPoints: Int($0.basisPoints)) })
        } catch {
            throw ControlError(.badRequest, "invalid_split", error.description)
        }
    }
}
