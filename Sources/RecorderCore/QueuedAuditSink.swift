import Foundation
import Logging

/// Audit entries written by a thread of their own: the console's thread hands an entry over
/// and goes on (the audit log's SQLite write and signed head never hold the screen). A
/// bounded queue; when full, the oldest entry waits no more and the loss is logged.
public final class QueuedAuditSink: AuditSink, @unchecked Sendable {  // queue guarded by `condition`
    private let inner: any AuditSink
    private let condition = NSCondition()
    private var queue: [OperatorEvent] = []
    private var lost = 0
    private var stopping = false
    private var done = false
    public static let capacity = 10_000

    public init(_ inner: any AuditSink) {
        self.inner = inner
        let thread = Thread { [self] in run() }
        thread.name = "audit"
        thread.start()
    }

    public func record(_ event: OperatorEvent) {
        condition.lock()
        defer { condition.unlock() }
        queue.append(event)
        if queue.count > QueuedAuditSink.capacity {
            queue.removeFirst()
            lost += 1
        }
        condition.broadcast()
    }

    /// Writes what is queued (at most `timeout` seconds), then stops the thread.
    public func finish(timeout: Double = 10) {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        stopping = true
        condition.broadcast()
        while !done && Date() < deadline { _ = condition.wait(until: deadline) }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty {
                done = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue
            queue.removeAll()
            let missed = lost
            lost = 0
            condition.unlock()
            if missed > 0 { Logger(label: "vigie.audit").error("\(missed) audit entries were not written: the queue was full") }
            for event in batch { inner.record(event) }
        }
    }
}
