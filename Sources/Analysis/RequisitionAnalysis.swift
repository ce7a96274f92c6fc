public import Foundation
public import RecorderCore
import Logging
import Synchronization

/// Indexes a requisition's footage, and nothing else: its cameras in its periods. A camera
/// per thread (one per core), each with its own networks; every segment's passages are
/// saved with the segment's mark in one transaction, so a stopped analysis resumes where
/// it stopped. Refuses a requisition that is not open to consultation.
public final class RequisitionAnalysis: Sendable {
    public let store: RecordingStore
    public let engine: InferenceEngine
    public let model: URL
    public let settings: AnalysisSettings

    public init(store: RecordingStore, engine: InferenceEngine, model: URL, settings: AnalysisSettings = AnalysisSettings()) {
        self.store = store
        self.engine = engine
        self.model = model
        self.settings = settings
    }

    /// One camera's share of the work: its segments, each with the period of the
    /// requisition it is analysed over.
    public struct Job: Sendable {
        public let camera: String
        public var segments: [(SegmentRecord, ClosedRange<Date>)]
    }

    /// The requisition's footage, camera by camera. `siteCameras` stands for a scope with no camera list.
    ///
    /// Of each camera, the main stream's segments; with `preferSubStream`, the sub stream's
    /// where it was recorded over the requisition's periods (small pictures: a quarter of the
    /// decoding, but a poorer look: see the benchmark). A camera one of whose streams was
    /// analysed already (`analysed`) stays on it, so that a resumed or finished analysis is
    /// never started again on the other stream.
    public static func plan(
        _ requisition: Requisition, catalog: any Catalog, siteCameras: [String], analysed: Set<Int64> = [], preferSubStream: Bool = false
    ) throws(CatalogError) -> [Job] {
        var jobs: [String: [StreamChoice: [Int64: (SegmentRecord, ClosedRange<Date>)]]] = [:]
        for scope in requisition.scopes {
            for camera in scope.cameras.isEmpty ? siteCameras : scope.cameras {
                for segment in try catalog.segments(camera: camera, stream: nil, from: scope.start, to: scope.end)
                where segment.end > scope.start && segment.start < scope.end {
                    let window = max(scope.start, segment.start)...max(max(scope.start, segment.start), min(scope.end, segment.end))
                    if let known = jobs[camera]?[segment.stream]?[segment.id] {
                        jobs[camera]![segment.stream]![segment.id] = (
                            segment, min(known.1.lowerBound, window.lowerBound)...max(known.1.upperBound, window.upperBound)
                        )
                    } else {
                        jobs[camera, default: [:]][segment.stream, default: [:]][segment.id] = (segment, window)
                    }
                }
            }
        }
        func seconds(_ segments: [Int64: (SegmentRecord, ClosedRange<Date>)]?) -> Double {
            (segments ?? [:]).values.reduce(0) { $0 + $1.1.upperBound.timeIntervalSince($1.1.lowerBound) }
        }
        return jobs.keys.sorted().compactMap { camera in
            let streams = jobs[camera]!
            let main = streams[.main], sub = streams[.sub]
            let mainStarted = main?.keys.contains { analysed.contains($0) } ?? false
            let subStarted = sub?.keys.contains { analysed.contains($0) } ?? false
            // The sub stream where it covers what the main stream does (within a second a segment).
            let covers = sub != nil && seconds(sub) >= seconds(main) - Double(main?.count ?? 0)
            let useSub = subStarted && !mainStarted || preferSubStream && covers && !mainStarted
            guard let chosen = useSub ? sub : (main ?? sub) else { return nil }
            return Job(camera: camera, segments: chosen.values.sorted { $0.0.start < $1.0.start })
        }
    }

    public struct Outcome: Sendable {
        public var times = StageTimes()
        public var passages = 0
        public var segments = 0
        public var skipped = 0
        public var failures: [String] = []
        public var stopped = false
    }

    /// Runs the analysis; `progress` is called after each segment (from the analysis threads).
    public func run(
        _ requisition: Requisition, siteCameras: [String], threads: Int = 2, progress: @escaping @Sendable (AnalysisProgress) -> Void = { _ in },
        stop: @escaping @Sendable () -> Bool = { false }
    ) throws -> Outcome {
        guard requisition.status.allowsConsultation else {
            throw AnalysisUnavailable("requisition \(requisition.number) is \(requisition.status.rawValue): its footage is no longer analysed")
        }
        let done = try store.catalog.analysedSegments(requisition: requisition.number)
        let jobs = try RequisitionAnalysis.plan(
            requisition, catalog: store.catalog, siteCameras: siteCameras, analysed: done, preferSubStream: settings.preferSubStream)
        let total = jobs.reduce(0) { $0 + $1.segments.count }
        let seconds = jobs.reduce(0.0) { $0 + $1.segments.reduce(0.0) { $0 + $1.1.upperBound.timeIntervalSince($1.1.lowerBound) } }
        let doneSeconds = jobs.reduce(0.0) { sum, job in
            sum + job.segments.filter { done.contains($0.0.id) }.reduce(0.0) { $0 + $1.1.upperBound.timeIntervalSince($1.1.lowerBound) }
        }
        struct Shared {
            var queue: [Job]
            var outcome = Outcome()
            var progress: AnalysisProgress
        }
        let shared = Mutex(
            Shared(
                queue: jobs,
                progress: AnalysisProgress(
                    segmentsTotal: total, segmentsDone: done.count, secondsTotal: seconds, secondsDone: doneSeconds,
                    passages: (try? store.catalog.passageCount(requisition: requisition.number)) ?? 0)))
        let logger = Logger(label: "vigie.analysis")
        let workers = max(1, min(threads, jobs.count))
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                let detector: ObjectDetector
                do {
                    detector = try ObjectDetector(engine: engine, model: model, pictureWidth: settings.width, pictureHeight: settings.width * 9 / 16, regionScale: settings.regionScale)
                } catch {
                    shared.withLock { $0.outcome.failures.append("\(error)"); $0.queue = [] }
                    return
                }
                while let job = shared.withLock({ $0.queue.isEmpty ? nil : $0.queue.removeFirst() }) {
                    let analysis = CameraAnalysis(camera: job.camera, requisition: requisition.number, detector: detector, settings: settings)
                    var last: SegmentRecord? = nil
                    for (segment, window) in job.segments {
                        if stop() { shared.withLock { $0.outcome.stopped = true }; break }
                        if done.contains(segment.id) {
                            shared.withLock { $0.outcome.skipped += 1 }
                            continue
                        }
                        do {
                            let found = try analysis.analyse(segment: segment, file: store.url(of: segment), window: window, stop: stop)
                            if stop() { shared.withLock { $0.outcome.stopped = true }; break }
                            try store.catalog.saveAnalysis(requisition: requisition.number, segmentID: segment.id, passages: found, at: Date())
                            last = segment
                            shared.withLock {
                                $0.outcome.segments += 1
                                $0.outcome.passages += found.count
                                $0.progress.segmentsDone += 1
                                $0.progress.secondsDone += window.upperBound.timeIntervalSince(window.lowerBound)
                                $0.progress.passages += found.count
                                progress($0.progress)
                            }
                        } catch {
                            logger.error("analysis of \(segment.path) for requisition \(requisition.number) failed: \(error)")
                            shared.withLock { $0.outcome.failures.append("\(segment.path): \(error)") }
                        }
                    }
                    // The tracks still open at the end of the camera's footage.
                    let rest = analysis.finish()
                    if let last, !rest.isEmpty, !shared.withLock({ $0.outcome.stopped }) {
                        do {
                            try store.catalog.saveAnalysis(requisition: requisition.number, segmentID: last.id, passages: rest, at: Date())
                            shared.withLock { $0.outcome.passages += rest.count; $0.progress.passages += rest.count }
                        } catch {
                            shared.withLock { $0.outcome.failures.append("\(job.camera): \(error)") }
                        }
                    }
                    let times = analysis.times
                    shared.withLock { $0.outcome.times = $0.outcome.times + times }
                }
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        group.wait()
        return shared.withLock { $0.outcome }
    }
}
