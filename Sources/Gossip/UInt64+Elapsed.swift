extension UInt64 {
    /// The time from `earlier` to this instant of the same clock (nanoseconds, or milliseconds for the replay
    /// memory); zero when `earlier` is later (a clock set back, a forged time), never a wrap to a huge interval.
    public func elapsed(since earlier: UInt64) -> UInt64 { self >= earlier ? self - earlier : 0 }
}
