import Foundation
import Synchronization

/// A thread of the console's that fetches what it shows (from the catalog or the recorder),
/// turn after turn until stopped: `wake()` starts the next turn at once.
final class WorkerThread: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let waking = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let name: String

    init(name: String) { self.name = name }

    /// Runs `body` on the thread: it loops while `running` and rests with `rest(_:)`.
    func start(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            body()
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    var running: Bool { !stopping.load(ordering: .relaxed) }

    func wake() { waking.signal() }

    /// Waits until woken, or `seconds`.
    func rest(_ seconds: Double) { _ = waking.wait(timeout: .now() + seconds) }

    /// Asks the loop to end and waits for it (5 s at most: a call under way ends first).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        waking.signal()
        _ = done.wait(timeout: .now() + 5)
    }
}
