import Control
import Foundation
import Logging
import Manifest
import Royalty
import ServiceLifecycle

/// Saves this node's view counts and delivers its closed periods to the origin: within a quarter second of a session
/// becoming a view it saves the open periods (so a kill -9 loses no view, only media of sessions still short of one
/// since the last save); every `interval` it closes the periods
/// that ended (a minute's grace for requests under way), signs each as a delivery report and keeps it in the spool,
/// saves the open periods, then posts what waits to `POST /v1/reports/deliveries` with the node's token (over HTTPS
/// when the origin's control API has a certificate; the target is read from the configuration in force). A report the
/// origin did not take (down, unreachable, emergency mode) stays on disk and is posted again at the next tick; one it
/// refused for good (another report of the period, or a month closed already) is set aside and logged.
struct ViewReporter: Service {
    let recorder: ViewRecorder
    let spool: ViewSpool
    let signer: NoteSigner
    /// The origin's control API as the configuration in force names it; nil: no origin takes reports.
    let client: @Sendable () -> ControlClient?
    let interval: Duration
    let state: NodeState
    let logger: Logger
    /// A TLS check that keeps failing is warned about once per reason (and every 10 minutes), not at every tick.
    let tlsFailure = RepeatingFailure()

    static let viewSaveDelay: Duration = .milliseconds(250)

    func run() async throws {
        var next = ContinuousClock.now + interval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let pause = min(Self.viewSaveDelay, next - ContinuousClock.now)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            if ContinuousClock.now >= next || Task.isShuttingDownGracefully {
                _ = recorder.takeUnsavedViews()
                await tick(now: Int64(Date().timeIntervalSince1970), deliver: !Task.isShuttingDownGracefully)
                next = ContinuousClock.now + interval
            } else if recorder.takeUnsavedViews() {
                save()
            }
        }
    }

    private func save() {
        do {
            try spool.saveOpen(recorder.snapshot())
        } catch {
            logger.error("cannot save view counts", metadata: ["error": "\(error)"])
        }
    }

    /// Closes, signs and keeps ended periods, saves open ones, and (unless `deliver` is false) posts what waits.
    func tick(now: Int64, deliver: Bool = true) async {
        for report in recorder.close(now: now) {
            do {
                let text = report.text
                let note = try signer.sign(text: DeliveryReport.signedText(node: report.node, period: report.period, reportText: text))
                let submission = try JSONSerialization.data(withJSONObject: ["report": text, "signature": note.rendered], options: [.sortedKeys])
                try spool.enqueue(submission, period: report.periodLabel)
            } catch {
                logger.error("cannot keep a delivery report", metadata: ["period": "\(report.periodLabel)", "error": "\(error)"])
            }
        }
        save()
        guard deliver, let client = client(), !state.emergencyOn else { return }
        for path in (try? spool.pending()) ?? [] {
            guard let body = try? AtomicFile.read(path, limit: ControlAPI.maximumReportBytes) else { continue }
            do {
                let response = try await client.post("/v1/reports/deliveries", json: body)
                switch response.status {
                case 200, 201:
                    tlsFailure.cleared()
                    spool.delivered(path)
                    logger.info("delivery report delivered", metadata: ["file": "\(URL(fileURLWithPath: path).lastPathComponent)"])
                case 409, 400:
                    spool.reject(path)
                    logger.error("delivery report refused", metadata: ["file": "\(URL(fileURLWithPath: path).lastPathComponent)", "status": "\(response.status)",
                                                                        "answer": "\(String(decoding: response.body.prefix(300), as: UTF8.self))"])
                default:
                    logger.warning("delivery report not taken; kept for the next try", metadata: ["status": "\(response.status)"])
                    return
                }
            } catch ControlClient.ClientError.tls(let reason) {
                // Not a passing outage: the origin's certificate or the fleet CA needs an operator.
                let level: Logger.Level = tlsFailure.isNews(reason) ? .warning : .debug
                logger.log(level: level, "delivery reports kept: the origin's control API failed the TLS check", metadata: ["error": "\(reason)"])
                return
            } catch {
                logger.debug("origin unreachable; delivery reports kept", metadata: ["error": "\(error)"])
                return
            }
        }
    }
}
