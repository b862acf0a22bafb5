import Royalty

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

    public init(tipArtistShareBasisPoints: UInt16 = Tips.defaultArtistShareBasisPoints, taxRates: TaxRates? = nil,
                sepaDebtor: SEPACreditTransfer.Account? = nil, recordings: (any RecordingSource)? = nil) {
        self.tipArtistShareBasisPoints = tipArtistShareBasisPoints
        self.taxRates = taxRates
        self.sepaDebtor = sepaDebtor
        self.recordings = recordings
    }
}
