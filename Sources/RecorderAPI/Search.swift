public import Foundation

/// Where a requisition's analysis stands (`GET/POST /v1/requisitions/{number}/analysis`).
public struct AnalysisStatus: Codable, Sendable, Hashable {
    public var requisition: String
    /// idle (never run here), running, done, stopped, failed, unavailable (no engine).
    public var state: String
    public var segmentsTotal: Int
    public var segmentsDone: Int
    public var secondsTotal: Double
    public var secondsDone: Double
    public var passages: Int
    /// Seconds of analysis so far in this run, and the estimate of what is left.
    public var elapsed: Double
    public var remaining: Double?
    public var error: String?
    /// Once the run ends: CPU seconds spent in each stage (decode, scale, motion, detection,
    /// tracking, attributes), and the inferences made.
    public var stages: [String: Double]?

    public init(
        requisition: String, state: String, segmentsTotal: Int = 0, segmentsDone: Int = 0, secondsTotal: Double = 0, secondsDone: Double = 0,
        passages: Int = 0, elapsed: Double = 0, remaining: Double? = nil, error: String? = nil
    ) {
        self.requisition = requisition
        self.state = state
        self.segmentsTotal = segmentsTotal
        self.segmentsDone = segmentsDone
        self.secondsTotal = secondsTotal
        self.secondsDone = secondsDone
        self.passages = passages
        self.elapsed = elapsed
        self.remaining = remaining
        self.error = error
    }
}

/// A search of a requisition's index (`POST /v1/search`): by class, colour, cameras and
/// period, or the passages of the vehicle of passage `like` on the other cameras.
public struct SearchRequest: Codable, Sendable, Hashable {
    public var requisition: String
    public var objectClass: String?
    public var colour: String?
    public var cameras: [String]
    public var from: Date?
    public var to: Date?
    public var like: Int64?
    public var limit: Int

    public init(requisition: String, objectClass: String? = nil, colour: String? = nil, cameras: [String] = [], from: Date? = nil, to: Date? = nil, like: Int64? = nil, limit: Int = 50) {
        self.requisition = requisition
        self.objectClass = objectClass
        self.colour = colour
        self.cameras = cameras
        self.from = from
        self.to = to
        self.like = like
        self.limit = limit
    }
}

/// One passage as a search returns it.
public struct PassageInfo: Codable, Sendable, Hashable {
    public var id: Int64
    public var camera: String
    public var start: Date
    public var end: Date
    public var objectClass: String
    public var confidence: Double
    public var colours: [String: Double]
    public var colour: String?
    public var direction: String
    /// The rank's score (colour share x confidence, or likeness x travel plausibility).
    public var score: Double
    /// Streets from the passage followed (following only).
    public var streets: Int?

    public init(
        id: Int64, camera: String, start: Date, end: Date, objectClass: String, confidence: Double, colours: [String: Double], colour: String?,
        direction: String, score: Double, streets: Int? = nil
    ) {
        self.id = id
        self.camera = camera
        self.start = start
        self.end = end
        self.objectClass = objectClass
        self.confidence = confidence
        self.colours = colours
        self.colour = colour
        self.direction = direction
        self.score = score
        self.streets = streets
    }
}

public struct SearchReply: Codable, Sendable, Hashable {
    public var requisition: String
    public var passages: [PassageInfo]
    /// Following: the passage followed, and the route chained from it in time order.
    public var followed: PassageInfo?
    public var route: [PassageInfo]?
    /// Passages in the requisition's index, and how much of its footage is analysed (nil
    /// while the recorder counts it: a requisition over months of many cameras).
    public var indexed: Int
    public var analysedShare: Double?

    public init(requisition: String, passages: [PassageInfo], followed: PassageInfo? = nil, route: [PassageInfo]? = nil, indexed: Int, analysedShare: Double?) {
        self.requisition = requisition
        self.passages = passages
        self.followed = followed
        self.route = route
        self.indexed = indexed
        self.analysedShare = analysedShare
    }
}

extension RecorderService {
    /// Starts or resumes the analysis; `again` first drops the requisition's index (a model
    /// replaced); `subStream` analyses the sub streams where they were recorded (faster, poorer).
    public func startAnalysis(requisition: String, again: Bool = false) throws(ServiceError) -> AnalysisStatus {
        try startAnalysis(requisition: requisition, again: again, subStream: false)
    }
    public func startAnalysis(requisition: String, again: Bool, subStream: Bool) throws(ServiceError) -> AnalysisStatus {
        let query = [again ? "again=true" : nil, subStream ? "stream=sub" : nil].compactMap { $0 }.joined(separator: "&")
        return try call(
            "POST", "/v1/requisitions/\(RecorderService.escape(requisition))/analysis\(query.isEmpty ? "" : "?" + query)", body: [], as: AnalysisStatus.self)
    }
    public func analysis(requisition: String) throws(ServiceError) -> AnalysisStatus {
        try call("GET", "/v1/requisitions/\(RecorderService.escape(requisition))/analysis", as: AnalysisStatus.self)
    }
    public func stopAnalysis(requisition: String) throws(ServiceError) -> AnalysisStatus {
        try call("POST", "/v1/requisitions/\(RecorderService.escape(requisition))/analysis/stop", body: [], as: AnalysisStatus.self)
    }
    public func search(_ request: SearchRequest) throws(ServiceError) -> SearchReply {
        try call("POST", "/v1/search", body: API.encode(request), as: SearchReply.self)
    }
    /// A passage's thumbnail (binary PPM).
    public func thumbnail(passage id: Int64) throws(ServiceError) -> [UInt8] {
        let response = try transport.exchange("GET", "/v1/passages/\(id)/thumbnail", body: nil)
        guard (200..<300).contains(response.status) else { throw ServiceError.from(response) }
        return response.body
    }
}
