import Foundation
import RecorderCore
import Synchronization

/// What the console shows about the recordings (the REC marks, the playback's timeline),
/// fetched on a thread of its own from the catalog or the recorder: the console's thread
/// says what it wants and reads what was found, and never waits for a disk or a network.
final class RecordingFacts: Sendable {
    private struct Wanted: Sendable {
        var cameras: [String] = []
        var timeline: (camera: String, at: Date)?
        var requisitions = false
        /// When the list was last on screen: it is fetched only while it is.
        var requisitionsAsked = Date.distantPast
    }
    private struct Found: Sendable {
        var marks: Set<String> = []
        var spans: RecordedSpans?
        var spansFetched = Date.distantPast
        var requisitions: [RequisitionChoice]?
        var requisitionsFetched = Date.distantPast
        var requisitionsError: String?
    }
    private let recordings: any ConsoleRecordings
    private let wanted = Mutex(Wanted())
    private let found = Mutex(Found())
    private let worker: WorkerThread
    /// The timeline asked for spans this far on each side of the position.
    static let reach: Double = 900

    init(recordings: any ConsoleRecordings) {
        self.recordings = recordings
        worker = WorkerThread(name: "console recordings")
        worker.start { [self] in run() }
    }

    /// The cameras on screen (for their REC marks), and the timeline's camera and position.
    func want(cameras: [String], timeline: (camera: String, at: Date)?) {
        let changed = wanted.withLock { wanted -> Bool in
            let moved = wanted.timeline?.camera != timeline?.camera || wanted.cameras != cameras
            wanted = Wanted(cameras: cameras, timeline: timeline, requisitions: wanted.requisitions, requisitionsAsked: wanted.requisitionsAsked)
            return moved
        }
        if changed { worker.wake() }
    }

    var marks: Set<String> { found.withLock { $0.marks } }

    /// The requisitions open to consultation (asked for once the list was shown, then kept fresh): nil
    /// until they come; the error when they could not be read.
    func requisitions(wanted: Bool) -> (list: [RequisitionChoice]?, error: String?) {
        if wanted { askRequisitions() }
        return found.withLock { ($0.requisitions, $0.requisitionsError) }
    }

    private func askRequisitions() {
        let first = wanted.withLock { wanted -> Bool in
            defer {
                wanted.requisitions = true
                wanted.requisitionsAsked = Date()
            }
            return !wanted.requisitions
        }
        if first { worker.wake() }
    }

    /// The spans of `camera` over the whole of `from...to`, when they were fetched (a jump
    /// elsewhere: nil until the new ones come, never a guess).
    func spans(camera: String, covering from: Date, to: Date) -> RecordedSpans? {
        found.withLock { found in
            guard let spans = found.spans, spans.camera == camera, spans.from <= from, spans.to >= to else { return nil }
            return spans
        }
    }

    func stop() { worker.stop() }

    private func run() {
        var lastMarks = Date.distantPast
        while worker.running {
            let now = Date()
            let want = wanted.withLock { $0 }
            if now.timeIntervalSince(lastMarks) >= 2 {
                lastMarks = now
                if let marks = try? recordings.recording(want.cameras, since: now.addingTimeInterval(-12)) {
                    found.withLock { $0.marks = marks }
                }
            }
            let refused = found.withLock { $0.requisitionsError?.contains("may not") == true }
            if want.requisitions && !refused && now.timeIntervalSince(want.requisitionsAsked) < 3
                && now.timeIntervalSince(found.withLock { $0.requisitionsFetched }) >= 5
            {
                do {
                    let list = try recordings.requisitions()
                    found.withLock {
                        $0.requisitions = list
                        $0.requisitionsError = nil
                        $0.requisitionsFetched = now
                    }
                } catch {
                    found.withLock {
                        $0.requisitionsError = "\(error)"
                        $0.requisitionsFetched = now
                    }
                }
            }
            if let timeline = want.timeline {
                let current = found.withLock { $0 }
                let spans = current.spans
                let stale =
                    spans == nil || spans!.camera != timeline.camera || now.timeIntervalSince(current.spansFetched) >= 5
                    || timeline.at < spans!.from.addingTimeInterval(RecordingFacts.reach / 2)
                    || timeline.at > spans!.to.addingTimeInterval(-RecordingFacts.reach / 2)
                if stale,
                    let fetched = try? recordings.spans(
                        camera: timeline.camera, from: timeline.at.addingTimeInterval(-RecordingFacts.reach), to: timeline.at.addingTimeInterval(RecordingFacts.reach))
                {
                    found.withLock {
                        $0.spans = fetched
                        $0.spansFetched = now
                    }
                }
            }
            worker.rest(0.5)
        }
    }
}
