import Foundation
import Metrics
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` metrics (as Prometheus' client libraries export them), read from `/proc/self` when
/// `/metrics` is scraped. One per process (several nodes in one test process share it).
final class ProcessMetrics: Sendable {
    static let shared = ProcessMetrics()

    private let cpu = FloatingPointCounter(label: "process_cpu_seconds_total")
    private let resident = Gauge(label: "process_resident_memory_bytes")
    private let virtual = Gauge(label: "process_virtual_memory_bytes")
    private let openDescriptors = Gauge(label: "process_open_fds")
    private let maximumDescriptors = Gauge(label: "process_max_fds")
    private let startTime = Gauge(label: "process_start_time_seconds")
    /// CPU seconds already counted (the counter only goes up by the difference).
    private let counted = Mutex(0.0)

    private init(started: Date = Date()) {
        startTime.record(started.timeIntervalSince1970.rounded(.down))
    }

    /// Reads the process's CPU time, memory and descriptors now.
    func update() {
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let fields = Self.statFields(stat) {
            let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
            let seconds = Double(fields.userTicks + fields.systemTicks) / max(ticks, 1)
            let delta = counted.withLock { counted -> Double in
                defer { counted = max(counted, seconds) }
                return seconds - counted
            }
            if delta > 0 { cpu.increment(by: delta) }
            virtual.record(Double(fields.virtualBytes))
            resident.record(Double(fields.residentPages) * Double(sysconf(Int32(_SC_PAGESIZE))))
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openDescriptors.record(Double(descriptors.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maximumDescriptors.record(Double(limit.rlim_cur)) }
    }

    /// utime, stime, vsize and rss of `/proc/self/stat` (fields 14, 15, 23, 24; the command in field 2 may hold
    /// spaces and parentheses, so fields are counted after its last `)`).
    static func statFields(_ stat: String) -> (userTicks: UInt64, systemTicks: UInt64, virtualBytes: UInt64, residentPages: UInt64)? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let rest = stat[stat.index(after: close)...].split(separator: " ")
        // rest[0] is field 3 (state).
        guard rest.count >= 22, let user = UInt64(rest[11]), let system = UInt64(rest[12]), let size = UInt64(rest[20]),
              let pages = UInt64(rest[21]) else { return nil }
        return (user, system, size, pages)
    }
}
