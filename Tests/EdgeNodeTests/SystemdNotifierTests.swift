import EdgeNode
import Foundation
import Testing
import TestSupport

/// The notify protocol's datagrams reach a socket the test owns, by path and in the abstract namespace.
@Suite struct SystemdNotifierTests {
    @Test func datagramsReachAPathSocket() throws {
        let directory = try TemporaryDirectory("notify")
        defer { directory.remove() }
        let socket = try NotifySocket(directory.path + "/notify.sock")
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
        #expect(notifier.send(["READY=1", "STATUS=serving"]))
        #expect(socket.receive(timeout: 2) == ["READY=1", "STATUS=serving"])
        let reloading = SystemdNotifier.reloading()
        #expect(notifier.send(reloading))
        let received = try #require(socket.receive(timeout: 2))
        #expect(received.first == "RELOADING=1")
        let stamp = try #require(received.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil })
        #expect(stamp > 0)
    }

    @Test func datagramsReachAnAbstractSocket() throws {
        let name = "@edgenode-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let socket = try NotifySocket(name)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": name]).send(["STOPPING=1"]))
        #expect(socket.receive(timeout: 2) == ["STOPPING=1"])
    }

    @Test func withoutASocketNothingIsSentAndNoWatchdogRuns() {
        let quiet = SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000"])
        #expect(quiet.socketPath == nil && quiet.watchdogInterval == nil && !quiet.send(["READY=1"]))
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/dir/sock"]).send(["READY=1"]))
    }

    @Test func theWatchdogIsThisProcessesOnly() {
        let socket = ["NOTIFY_SOCKET": "/run/systemd/notify"]
        #expect(SystemdNotifier(environment: socket.merging(["WATCHDOG_USEC": "2000000"]) { $1 }, pid: 42).watchdogInterval == .seconds(2))
        #expect(SystemdNotifier(environment: socket.merging(["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "42"]) { $1 }, pid: 42)
            .watchdogInterval == .seconds(2))
        #expect(SystemdNotifier(environment: socket.merging(["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "43"]) { $1 }, pid: 42)
            .watchdogInterval == nil, "the watchdog of another process (a parent shell)")
        #expect(SystemdNotifier(environment: socket.merging(["WATCHDOG_USEC": "zero"]) { $1 }, pid: 42).watchdogInterval == nil)
    }
}
