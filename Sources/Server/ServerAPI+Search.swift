import Analysis
import Foundation
import Logging
import Media
import RecorderAPI
import RecorderCore

/// The engine, opened once per process (or why it cannot be).
enum SharedEngine {
    static let engine: Result<InferenceEngine, AnalysisUnavailable> = {
        do throws(AnalysisUnavailable) { return .success(try InferenceEngine()) } catch { return .failure(error) }
    }()
}

/// Analysis and search under requisition: only a technician or supervisor, only an open
/// requisition's cameras and periods, only recorded footage, each run and each search an
/// audit entry with its requisition and criteria.
extension ServerAPI {
    func analysisRoute(_ request: APIRequest, _ actor: Actor, number: String, stop: Bool) throws -> APIReply {
        if let refused = try refuse(actor, .search, request) { return refused }
        guard let requisition = try store.catalog.requisition(number: number) else { return .error(404, "no requisition \(number)") }
        for camera in requisitionCameras(requisition) {
            if let refused = try refuse(actor, .search, request, camera: camera) { return refused }
        }
        switch (request.method, stop) {
        case ("GET", false):
            if let status = analyses.withLock({ $0[number] }) { return .json(status) }
            return .json(try idleStatus(requisition))
        case ("POST", true):
            analyses.withLock { if $0[number]?.state == "running" { $0[number]?.state = "stopping" } }
            if let status = analyses.withLock({ $0[number] }) { return .json(status) }
            return .json(try idleStatus(requisition))
        case ("POST", false):
            return try startAnalysis(requisition, actor, request)
        default:
            return .error(405, "\(request.method) is not a method of \(request.path) (see docs/protocol.yaml)")
        }
    }

    /// Stops the analyses running in this process (each keeps what it analysed, per segment),
    /// waiting at most `seconds` for them to end: a console that quits, a recorder that stops.
    public func stopAnalyses(waiting seconds: Double = 5) {
        analyses.withLock { runs in
            for number in runs.keys where runs[number]?.state == "running" { runs[number]?.state = "stopping" }
        }
        let deadline = Date().addingTimeInterval(seconds)
        while analyses.withLock({ $0.values.contains { $0.state == "running" || $0.state == "stopping" } }) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    private func requisitionCameras(_ requisition: Requisition) -> [String] {
        requisition.scopes.contains { $0.cameras.isEmpty } ? inventory.cameras.map(\.id) : Array(Set(requisition.scopes.flatMap(\.cameras))).sorted()
    }

    /// How much of the requisition's footage is analysed (0...1): from the analysis run
    /// here (running, ended or stopped), else the last count for the same scopes; counted again off this thread when
    /// older than a minute (waited for 50 ms: a small requisition is counted at once; a
    /// big one answers nil until its first count ends).
    private func analysedShare(_ requisition: Requisition) -> Double? {
        if let run = analyses.withLock({ $0[requisition.number] }), run.state != "failed" {
            return run.secondsTotal > 0 ? run.secondsDone / run.secondsTotal : 0
        }
        let now = MonotonicClock.seconds(), number = requisition.number
        let (known, count) = analysedShares.withLock { shares -> (Double?, Bool) in
            let entry = shares[number].flatMap { $0.scopes == requisition.scopes ? $0 : nil }
            let due = entry == nil || (!entry!.counting && now - entry!.at >= 60)
            if due { shares[number] = (requisition.scopes, entry?.at ?? now, entry?.share, true) }
            return (entry?.share, due)
        }
        guard count else { return known }
        let counted = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            let share = (try? idleStatus(requisition)).map { $0.secondsTotal > 0 ? $0.secondsDone / $0.secondsTotal : 0 }
            analysedShares.withLock { $0[number] = (requisition.scopes, MonotonicClock.seconds(), share, false) }
            counted.signal()
        }
        thread.start()
        // A small requisition is counted at once; a big one answers with the last count.
        if counted.wait(timeout: .now() + .milliseconds(50)) == .success { return analysedShares.withLock { $0[number]?.share } }
        return known
    }

    private func idleStatus(_ requisition: Requisition, preferSubStream: Bool = false) throws -> AnalysisStatus {
        let done = try store.catalog.analysedSegments(requisition: requisition.number)
        let jobs = try RequisitionAnalysis.plan(
            requisition, catalog: store.catalog, siteCameras: inventory.cameras.map(\.id), analysed: done, preferSubStream: preferSubStream)
        let segments = jobs.flatMap(\.segments)
        return AnalysisStatus(
            requisition: requisition.number, state: segments.allSatisfy({ done.contains($0.0.id) }) && !segments.isEmpty ? "done" : "idle",
            segmentsTotal: segments.count, segmentsDone: segments.filter { done.contains($0.0.id) }.count,
            secondsTotal: segments.reduce(0) { $0 + $1.1.upperBound.timeIntervalSince($1.1.lowerBound) },
            secondsDone: segments.filter { done.contains($0.0.id) }.reduce(0) { $0 + $1.1.upperBound.timeIntervalSince($1.1.lowerBound) },
            passages: try store.catalog.passageCount(requisition: requisition.number))
    }

    private func startAnalysis(_ requisition: Requisition, _ actor: Actor, _ request: APIRequest) throws -> APIReply {
        guard requisition.status.allowsConsultation else {
            audit(
                OperatorEvent(
                    who: actor.name, action: .accessRefused, detail: "\(Permission.search.rawValue): requisition \(requisition.number) is \(requisition.status.rawValue) (from \(request.peer))",
                    requisition: requisition.number))
            return .error(409, "requisition \(requisition.number) is \(requisition.status.rawValue): analysis runs only under an open requisition")
        }
        if let running = analyses.withLock({ $0[requisition.number] }), running.state == "running" || running.state == "stopping" { return .json(running) }
        let engine: InferenceEngine
        switch SharedEngine.engine {
        case .success(let found): engine = found
        case .failure(let why): return .error(503, "search is disabled on this recorder: \(why)")
        }
        if request.query["again"] == "true" {
            // From the start: the index made so far is dropped (a replaced model, new settings).
            let dropped = try store.catalog.dropAnalysis(requisition: requisition.number)
            analysedShares.withLock { $0[requisition.number] = nil }
            audit(OperatorEvent(who: actor.name, action: .analysisStarted, detail: "index dropped to analyse again: \(dropped) passage(s)", requisition: requisition.number))
        }
        var settings = AnalysisSettings()
        switch request.query["stream"] {
        case nil, "main": break
        case "sub": settings.preferSubStream = true
        case let other?: return .error(400, "stream is main or sub, not \(TerminalText.escaped(other))")
        }
        let analysis = RequisitionAnalysis(store: store, engine: engine, model: AnalysisFiles().detectorModel, settings: settings)
        var status = try idleStatus(requisition, preferSubStream: settings.preferSubStream)
        status.state = "running"
        analyses.withLock { $0[requisition.number] = status }
        let scope = requisition.scopes.map { "\($0.cameras.isEmpty ? "all cameras" : $0.cameras.joined(separator: ",")) \($0.start.formatted(.iso8601))/\($0.end.formatted(.iso8601))" }
        audit(
            OperatorEvent(
                who: actor.name, action: .analysisStarted, detail: "analysis of \(status.segmentsTotal - status.segmentsDone) segment(s)\(settings.preferSubStream ? " (sub streams where recorded)" : ""): \(scope.joined(separator: "; "))",
                from: requisition.scopes.map(\.start).min(), to: requisition.scopes.map(\.end).max(), requisition: requisition.number))
        let number = requisition.number, began = Date(), startedDone = status.secondsDone
        let cameras = inventory.cameras.map(\.id)
        let thread = Thread { [self] in
            do {
                let outcome = try analysis.run(
                    requisition, siteCameras: cameras, threads: max(1, min(2, ProcessInfo.processInfo.activeProcessorCount)),
                    progress: { progress in
                        let elapsed = Date().timeIntervalSince(began)
                        let rate = (progress.secondsDone - startedDone) / max(0.001, elapsed)
                        self.analyses.withLock {
                            $0[number]?.segmentsDone = progress.segmentsDone
                            $0[number]?.secondsDone = progress.secondsDone
                            $0[number]?.passages = progress.passages
                            $0[number]?.elapsed = elapsed
                            $0[number]?.remaining = rate > 0 ? (progress.secondsTotal - progress.secondsDone) / rate : nil
                        }
                    },
                    stop: { self.stopping.load(ordering: .relaxed) || self.analyses.withLock { $0[number]?.state == "stopping" } })
                let passages = (try? store.catalog.passageCount(requisition: number)) ?? 0
                let times = outcome.times
                audit(
                    OperatorEvent(
                        who: actor.name, action: .analysisStarted,
                        detail: "\(outcome.stopped ? "stopped" : "finished"): \(outcome.segments) segment(s) analysed, \(outcome.skipped) already done, \(passages) passage(s) indexed, \(String(format: "%.0f", times.footageSeconds)) s of footage in \(String(format: "%.1f", times.total)) s of CPU\(outcome.failures.isEmpty ? "" : ", \(outcome.failures.count) failure(s)")",
                        requisition: number))
                analyses.withLock {
                    $0[number]?.state = outcome.stopped ? "stopped" : (outcome.failures.isEmpty ? "done" : "failed")
                    $0[number]?.passages = passages
                    $0[number]?.elapsed = Date().timeIntervalSince(began)
                    $0[number]?.remaining = outcome.stopped ? nil : 0
                    $0[number]?.error = outcome.failures.first
                    $0[number]?.stages = [
                        "decode": times.decode, "scale": times.scale, "motion": times.motion, "detection": times.detection,
                        "tracking": times.tracking, "attributes": times.attributes, "inferences": Double(times.inferences),
                        "footage": times.footageSeconds, "pictures": Double(times.pictures), "analysed": Double(times.analysed),
                    ]
                }
            } catch {
                Logger(label: "vigie.analysis").error("analysis of requisition \(number) failed: \(error)")
                analyses.withLock {
                    $0[number]?.state = "failed"
                    $0[number]?.error = "\(error)"
                }
            }
        }
        thread.stackSize = 4 << 20
        thread.start()
        return .json(status, status: 202)
    }

    func search(_ request: APIRequest, _ actor: Actor) throws -> APIReply {
        guard request.body.count <= 64 << 10, var body = try? API.decode(SearchRequest.self, from: request.body) else {
            return .error(400, "a search is {\"requisition\", \"objectClass\"?, \"colour\"?, \"cameras\"?: [ids], \"from\"?, \"to\"?, \"like\"?: passage id, \"limit\"?}")
        }
        if let refused = try refuse(actor, .search, request) { return refused }
        guard let requisition = try store.catalog.requisition(number: body.requisition) else { return .error(404, "no requisition \(body.requisition)") }
        guard requisition.status.allowsConsultation else {
            return .error(409, "requisition \(requisition.number) is \(requisition.status.rawValue): its index is no longer searched")
        }
        if let colour = body.colour, ColourName(rawValue: colour) == nil {
            return .error(400, "unknown colour \(colour): \(ColourName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let name = body.objectClass {
            guard let known = ObjectClass(query: name) else {
                return .error(400, "unknown class \(name): \(ObjectClass.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            body.objectClass = known.rawValue
        }
        switch try cameraIDs(body.cameras) {
        case .success(let found): body.cameras = found
        case .failure(let refusal): return refusal.reply
        }
        for camera in body.cameras.isEmpty ? requisitionCameras(requisition) : body.cameras {
            if let refused = try refuse(actor, .search, request, camera: camera) { return refused }
        }
        body.limit = min(max(1, body.limit), 500)
        let criteria = [
            body.objectClass.map { "class \($0)" }, body.colour.map { "colour \($0)" }, body.cameras.isEmpty ? nil : "cameras \(body.cameras.joined(separator: ","))",
            body.like.map { "like passage \($0)" },
        ].compactMap { $0 }
        let indexed = try store.catalog.passageCount(requisition: requisition.number)
        let share = analysedShare(requisition)
        let reply: SearchReply
        if let like = body.like {
            guard let followed = try store.catalog.passage(id: like), followed.requisition == requisition.number else {
                return .error(404, "no passage \(like) in requisition \(requisition.number)'s index")
            }
            guard followed.descriptor.count == Appearance.length else {
                return .error(
                    409,
                    "passage \(like) was indexed by an earlier version of the analysis, whose looks cannot be compared: index the requisition again (vigie analyse --requisition \(requisition.number) --again)")
            }
            let graph = Dictionary(inventory.cameras.map { ($0.id, $0.neighbours) }, uniquingKeysWith: { a, _ in a })
            let following = Following(graph: graph)
            // The candidates: what began within the horizon of the followed passage.
            let early = followed.start.addingTimeInterval(-following.horizon), late = followed.end.addingTimeInterval(following.horizon)
            let candidates = try store.catalog.followingCandidates(
                requisition: requisition.number, from: max(early, body.from ?? early), to: min(late, body.to ?? late)
            ).filter { body.cameras.isEmpty || body.cameras.contains($0.camera) }
            let (all, route) = following.follow(followed, among: candidates)
            let ranked = all.prefix(body.limit)
            // The candidates were read without their colours: the results are read whole.
            func whole(_ passage: Passage) throws -> Passage { passage.id == followed.id ? followed : try store.catalog.passage(id: passage.id) ?? passage }
            reply = SearchReply(
                requisition: requisition.number,
                passages: try ranked.map { ServerAPI.info(try whole($0.passage), score: $0.score, streets: $0.streets) },
                followed: ServerAPI.info(followed, score: 1), route: try route.map { ServerAPI.info(try whole($0), score: $0.id == followed.id ? 1 : 0) },
                indexed: indexed, analysedShare: share)
        } else {
            let found = try store.catalog.searchPassages(
                PassageQuery(requisition: requisition.number, objectClass: body.objectClass, colour: body.colour, cameras: body.cameras, from: body.from, to: body.to, limit: body.limit))
            reply = SearchReply(
                requisition: requisition.number,
                passages: found.map { passage in ServerAPI.info(passage, score: body.colour.map { passage.share(of: $0) * passage.confidence } ?? passage.confidence) },
                indexed: indexed, analysedShare: share)
        }
        audit(
            OperatorEvent(
                who: actor.name, action: .searched, detail: "\(criteria.isEmpty ? "everything" : criteria.joined(separator: ", ")): \(reply.passages.count) result(s)",
                from: body.from, to: body.to, requisition: requisition.number))
        return .json(reply)
    }

    static func info(_ passage: Passage, score: Double, streets: Int? = nil) -> PassageInfo {
        PassageInfo(
            id: passage.id, camera: passage.camera, start: passage.start, end: passage.end, objectClass: passage.objectClass, confidence: passage.confidence,
            colours: Dictionary(passage.colours.map { ($0.name, $0.share) }, uniquingKeysWith: { a, _ in a }), colour: passage.colours.first?.name,
            direction: passage.direction, score: (score * 1000).rounded() / 1000, streets: streets)
    }

    func thumbnail(_ request: APIRequest, _ actor: Actor, id: String) throws -> APIReply {
        if let refused = try refuse(actor, .search, request) { return refused }
        guard let number = Int64(id), let passage = try store.catalog.passage(id: number) else { return .error(404, "no passage \(id)") }
        if let refused = try refuse(actor, .search, request, camera: passage.camera) { return refused }
        guard let requisition = try store.catalog.requisition(number: passage.requisition), requisition.status.allowsConsultation else {
            return .error(409, "passage \(id)'s requisition is closed")
        }
        guard let image = try store.catalog.thumbnail(passage: number) else { return .error(404, "passage \(id) has no thumbnail") }
        return APIReply(status: 200, contentType: "image/x-portable-pixmap", body: image)
    }
}
