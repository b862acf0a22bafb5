extension FixedWidthInteger {
    /// `self + other`, or the type's bound it would pass: for counters whose exact value past the bound does not
    /// matter (media time of a session beyond its view threshold, bytes a node counted), never a wrap.
    func saturatingAdding(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other < 0 ? .min : .max
    }
}
