import Foundation
public import Media
public import RecorderAPI
import Synchronization

/// What the investigation screen asks of the recorder: the analysis of a requisition, its
/// searches and the passages' thumbnails. The recorder checks each call against the
/// account and writes the searches and analysis runs to the audit log itself.
public protocol ConsoleSearch: Sendable {
    func analysis(requisition: String) throws -> AnalysisStatus
    func startAnalysis(requisition: String, again: Bool) throws -> AnalysisStatus
    func stopAnalysis(requisition: String) throws -> AnalysisStatus
    func search(_ request: SearchRequest) throws -> SearchReply
    /// A passage's thumbnail, a binary PPM.
    func thumbnail(passage id: Int64) throws -> [UInt8]
}

extension RecorderService: ConsoleSearch {}

/// The investigation screen's calls to the recorder, on a thread of their own: the console
/// says which requisition, search and thumbnails it shows and reads what came back; it never
/// waits for the recorder. A search is sent once per new request (each is an audit entry),
/// and once more when the analysis running ends (its new passages).
final class SearchFacts: Sendable {
    private struct Wanted: Sendable {
        var request: SearchRequest?
        var thumbnails: [Int64] = []
        var commands: [(requisition: String, start: Bool)] = []
        /// When the screen was last drawn: nothing is fetched once it is closed.
        var asked = Date.distantPast
    }
    struct Found: Sendable {
        var reply: SearchReply?
        /// The request the reply (or the error) answers.
        var answered: SearchRequest?
        var error: String?
        var status: AnalysisStatus?
        var statusError: String?
        var statusFetched = Date.distantPast
        var thumbnails: [Int64: RGBImage] = [:]
        /// Thumbnails the recorder does not have (or refused): not asked again.
        var missing: Set<Int64> = []
    }
    private let service: any ConsoleSearch
    private let wanted = Mutex(Wanted())
    private let found = Mutex(Found())
    private let worker: WorkerThread

    init(service: any ConsoleSearch) {
        self.service = service
        worker = WorkerThread(name: "console search")
        worker.start { [self] in run() }
    }

    /// The search on screen and the passages whose thumbnails it shows.
    func want(_ request: SearchRequest, thumbnails: [Int64]) {
        let changed = wanted.withLock { wanted -> Bool in
            let changed = wanted.request != request || wanted.thumbnails != thumbnails || Date().timeIntervalSince(wanted.asked) > 2
            wanted.request = request
            wanted.thumbnails = thumbnails
            wanted.asked = Date()
            return changed
        }
        if changed { worker.wake() }
    }

    /// Starts (or resumes) or stops the requisition's analysis.
    func command(requisition: String, start: Bool) {
        wanted.withLock { $0.commands.append((requisition, start)) }
        worker.wake()
    }

    var current: Found { found.withLock { $0 } }

    func stop() { worker.stop() }

    private static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if let serviceError = error as? ServiceError, serviceError.kind == .refused || serviceError.kind == .unauthenticated { return "refused: \(text)" }
        return text
    }

    /// The analysis's state as the recorder said it, or why it could not.
    private func keep(status: Result<AnalysisStatus, any Error>, at time: Date) {
        found.withLock {
            switch status {
            case .success(let status):
                $0.status = status
                $0.statusError = nil
            case .failure(let error):
                $0.status = nil
                $0.statusError = SearchFacts.describe(error)
            }
            $0.statusFetched = time
        }
    }

    private func run() {
        var lastState: String?
        while worker.running {
            let now = Date()
            let want = wanted.withLock { wanted -> Wanted in
                let copy = wanted
                wanted.commands = []
                return copy
            }
            for command in want.commands {
                keep(status: Result {
                    command.start ? try service.startAnalysis(requisition: command.requisition, again: false) : try service.stopAnalysis(requisition: command.requisition)
                }, at: Date())
            }
            guard let request = want.request, now.timeIntervalSince(want.asked) < 3 else {
                worker.rest(0.5)
                continue
            }
            // The analysis: each second while it runs, else each 5 s (started elsewhere too).
            var current = found.withLock { $0 }
            if current.status?.requisition != request.requisition { current.status = nil }
            let running = current.status?.state == "running" || current.status?.state == "stopping"
            if current.status == nil || now.timeIntervalSince(current.statusFetched) >= (running ? 1 : 5) {
                keep(status: Result { try service.analysis(requisition: request.requisition) }, at: now)
            }
            let state = found.withLock { $0.status?.state }
            let finished = lastState.map { ($0 == "running" || $0 == "stopping") && state != "running" && state != "stopping" } ?? false
            lastState = state
            if current.answered != request || finished {
                do {
                    let reply = try service.search(request)
                    found.withLock {
                        $0.reply = reply
                        $0.answered = request
                        $0.error = nil
                    }
                } catch {
                    found.withLock {
                        $0.reply = nil
                        $0.answered = request
                        $0.error = SearchFacts.describe(error)
                    }
                }
            }
            // The thumbnails on screen, a few per turn (the search's answer comes first).
            let have = found.withLock { Set($0.thumbnails.keys).union($0.missing) }
            for id in want.thumbnails.filter({ !have.contains($0) }).prefix(8) {
                if !worker.running { break }
                let image = (try? service.thumbnail(passage: id)).flatMap(PortablePixmap.decode)
                found.withLock {
                    guard let image else {
                        $0.missing.insert(id)
                        return
                    }
                    if $0.thumbnails.count >= 400 { $0.thumbnails.removeAll() }  // a long session: kept bounded
                    $0.thumbnails[id] = image
                }
            }
            let more = want.thumbnails.contains { !found.withLock { Set($0.thumbnails.keys).union($0.missing) }.contains($0) }
            if !more { worker.rest(0.5) }
        }
    }
}
