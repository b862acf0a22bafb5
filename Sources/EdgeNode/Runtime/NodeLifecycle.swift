import Logging
import ServiceLifecycle
import UnixSignals

/// The node's side of its supervisor: SIGHUP reloads `nodes.conf` (when the node is a process of its own),
/// `WATCHDOG=1` is sent every half `WatchdogSec` while every event loop answers, and `STOPPING=1` as graceful
/// shutdown begins. It is the last service of the node's group, so the first told to shut down.
struct NodeLifecycle: Service {
    let notifier: SystemdNotifier
    let reloadOnHangup: Bool
    let reload: @Sendable () async -> Void
    /// Whether every event loop of the node ran a task within the time given.
    let loopsRespond: @Sendable (Duration) async -> Bool
    let logger: Logger

    func run() async throws {
        await withDiscardingTaskGroup { group in
            if reloadOnHangup {
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        await reload()
                    }
                }
            }
            if let interval = notifier.watchdogInterval {
                group.addTask { await watchdog(every: interval / 2) }
            }
            // Returns at graceful shutdown, throws when the group is cancelled: the node stops either way.
            try? await gracefulShutdown()
            notifier.send(["STOPPING=1", "STATUS=stopping"])
            group.cancelAll()
        }
    }

    private func watchdog(every period: Duration) async {
        logger.info("systemd watchdog on", metadata: ["period": "\(period)"])
        while !Task.isCancelled {
            if await loopsRespond(period) {
                notifier.send(["WATCHDOG=1"])
            } else {
                logger.critical("an event loop did not answer within the watchdog period; not telling systemd it is alive")
            }
            guard (try? await Task.sleep(for: period)) != nil else { return }
        }
    }
}
