import Foundation
import Synchronization

/// SIGINT/SIGTERM during a long publish: the segmenter stops at the next packet and removes its staging directory.
/// A second signal ends the process at once.
enum Interruption {
    private static let flag = Atomic<Bool>(false)

    static var requested: Bool { flag.load(ordering: .relaxed) }

    static func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number) { received in
                Interruption.flag.store(true, ordering: .relaxed)
                signal(received, SIG_DFL)
            }
        }
    }
}
