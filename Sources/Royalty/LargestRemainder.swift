/// Splits an amount of minor units between parties in proportion to integer weights so that the parts sum to the
/// amount exactly: each party gets the floor of its exact share, then the units left over go one at a time to the
/// parties with the largest remainders, ties broken by party id ascending (the largest-remainder, or Hamilton,
/// method). Arithmetic is exact (128-bit intermediates): no floating point, no overflow for any amount and weights
/// that fit their types.
public enum LargestRemainder {
    /// Why an allocation cannot be made.
    public enum Refusal: Error, Equatable, Sendable {
        /// Every weight is zero (or there is no party) but there is something to split.
        case noWeight
        /// The same party appears twice.
        case duplicateParty
        case negativeAmount
    }

    /// The parts of `amount` for each party, in the order given.
    public static func allocate<Party: Comparable & Hashable>(_ amount: Int64, among weights: [(party: Party, weight: UInt64)])
        -> Result<[(party: Party, amount: Int64)], Refusal> {
        guard amount >= 0 else { return .failure(.negativeAmount) }
        guard Set(weights.map(\.party)).count == weights.count else { return .failure(.duplicateParty) }
        // The total weight may exceed 64 bits: it is kept as (high, low).
        var total = (high: UInt64(0), low: UInt64(0))
        for (_, weight) in weights {
            let (sum, overflow) = total.low.addingReportingOverflow(weight)
            total = (total.high + (overflow ? 1 : 0), sum)
        }
        if amount == 0 { return .success(weights.map { ($0.party, 0) }) }
        guard total != (0, 0) else { return .failure(.noWeight) }
        // share_i = amount × weight_i / total. With the total beyond 64 bits, both are scaled down by the same shift:
        // the parts still sum to the amount (the remainders hand out what flooring loses), only the proportions are
        // rounded at 2^-64 relative precision.
        let shift = total.high == 0 ? 0 : 64 - total.high.leadingZeroBitCount
        let divisor = shift == 0 ? total.low : (total.low >> UInt64(shift)) | (total.high << UInt64(64 - shift))
        var parts: [(index: Int, floor: UInt64, remainder: UInt64)] = []
        var given: UInt64 = 0
        for (index, entry) in weights.enumerated() {
            let weight = shift == 0 ? entry.weight : entry.weight >> UInt64(shift)
            let product = UInt64(amount).multipliedFullWidth(by: weight)
            let (quotient, remainder) = divisor.dividingFullWidth(product)
            parts.append((index, quotient, remainder))
            given += quotient
        }
        var leftover = UInt64(amount) - given
        let order = parts.indices.sorted { a, b in
            parts[a].remainder != parts[b].remainder ? parts[a].remainder > parts[b].remainder
                : weights[parts[a].index].party < weights[parts[b].index].party
        }
        var amounts = parts.map(\.floor)
        // Flooring loses less than one unit per party (two with a scaled-down total), so at most two rounds; a party
        // whose weight is zero never receives a unit.
        while leftover > 0 {
            for index in order where leftover > 0 && weights[index].weight > 0 {
                amounts[index] += 1
                leftover -= 1
            }
        }
        return .success(zip(weights, amounts).map { ($0.party, Int64($1)) })
    }
}
