import Manifest
import Royalty
import Synchronization

/// The royalty rules' settings the control API applies (`[royalty]` in `nodes.conf`, and the origin's
/// `tip_artist_share`).
public struct RoyaltySettings: Sendable {
    /// The artist's share of a tip, in basis points (the platform keeps the rest).
    public var tipArtistShareBasisPoints: UInt16
    /// Withholding rates by tax country; without them no payout run can be planned.
    public var taxRates: TaxRates?
    /// The platform's bank account SEPA payouts are paid from; without it a run's SEPA file cannot be made.
    public var sepaDebtor: SEPACreditTransfer.Account?
    /// The published recordings; without a source no line or view matches a content (only split rules and artists do).
    public var recordings: (any RecordingSource)?
    /// Each node's key for signing its delivery reports; a node without one cannot report. Shared: a reload of
    /// `nodes.conf` replaces the keys while the API runs.
    public var reportKeys = ReportKeys()
    /// How views become royalties at a month's close.
    public var viewModel: ViewModel = .proRata
    /// Media a session needs to be a view.
    public var viewThresholdMilliseconds: UInt32 = 30_000

    /// `pro_rata`: the month's subscription pool in the close's currency, split by views; `per_view`: a rate card,
    /// minor units per 1,000 views by currency.
    public enum ViewModel: Sendable, Equatable {
        case proRata
        case perView(ratesPerThousand: [String: Int64])
    }

    public init(tipArtistShareBasisPoints: UInt16 = Tips.defaultArtistShareBasisPoints, taxRates: TaxRates? = nil,
                sepaDebtor: SEPACreditTransfer.Account? = nil, recordings: (any RecordingSource)? = nil) {
        self.tipArtistShareBasisPoints = tipArtistShareBasisPoints
        self.taxRates = taxRates
        self.sepaDebtor = sepaDebtor
        self.recordings = recordings
    }
}

/// The nodes' delivery-report keys by node name, replaceable while the control API runs.
public final class ReportKeys: Sendable {
    private let keys: Mutex<[String: NoteVerifier]>

    public init(_ keys: [String: NoteVerifier] = [:]) { self.keys = Mutex(keys) }

    /// The key of `node`, if it has one.
    public subscript(node: String) -> NoteVerifier? { keys.withLock { $0[node] } }

    /// Puts `keys` in force for every report checked from now on.
    public func replace(_ keys: [String: NoteVerifier]) { self.keys.withLock { $0 = keys } }
}
