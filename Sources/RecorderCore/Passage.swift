public import Foundation

/// One object's passage through one camera's picture, as the analysis of a requisition's
/// footage found it: the object index's row. Tied to its requisition and to the segment it
/// began in: it is destroyed with that footage.
public struct Passage: Sendable, Hashable, Codable {
    public var id: Int64
    public var requisition: String
    public var camera: String
    public var segmentID: Int64
    public var start: Date
    public var end: Date
    /// car, van, bus, motorcycle, bicycle, person.
    public var objectClass: String
    /// The detector's confidence in the object (best over the passage).
    public var confidence: Double
    /// Colour names with their shares of the votes, most voted first.
    public var colours: [NamedShare]
    /// left-to-right, right-to-left, towards, away, standing.
    public var direction: String
    /// Where the object was in the best picture, as fractions of the picture (x0, y0, x1, y1).
    public var box: [Double]
    /// The appearance descriptor (following across cameras).
    public var descriptor: [Float]

    public struct NamedShare: Sendable, Hashable, Codable {
        public var name: String
        public var share: Double
        public init(name: String, share: Double) {
            self.name = name
            self.share = share
        }
    }

    public init(
        id: Int64 = 0, requisition: String, camera: String, segmentID: Int64, start: Date, end: Date, objectClass: String, confidence: Double,
        colours: [NamedShare], direction: String, box: [Double], descriptor: [Float]
    ) {
        self.id = id
        self.requisition = requisition
        self.camera = camera
        self.segmentID = segmentID
        self.start = start
        self.end = end
        self.objectClass = objectClass
        self.confidence = confidence
        self.colours = colours
        self.direction = direction
        self.box = box
        self.descriptor = descriptor
    }

    /// The share of `colour` among the passage's colours (0 when not named).
    public func share(of colour: String) -> Double { colours.first { $0.name == colour }?.share ?? 0 }
}

/// What a search asks of a requisition's index.
public struct PassageQuery: Sendable, Hashable, Codable {
    public var requisition: String
    public var objectClass: String?
    public var colour: String?
    public var cameras: [String]
    public var from: Date?
    public var to: Date?
    public var limit: Int

    public init(requisition: String, objectClass: String? = nil, colour: String? = nil, cameras: [String] = [], from: Date? = nil, to: Date? = nil, limit: Int = 100) {
        self.requisition = requisition
        self.objectClass = objectClass
        self.colour = colour
        self.cameras = cameras
        self.from = from
        self.to = to
        self.limit = limit
    }
}

/// How far a requisition's analysis has gone.
public struct AnalysisProgress: Sendable, Hashable, Codable {
    public var segmentsTotal: Int
    public var segmentsDone: Int
    public var secondsTotal: Double
    public var secondsDone: Double
    public var passages: Int

    public init(segmentsTotal: Int, segmentsDone: Int, secondsTotal: Double, secondsDone: Double, passages: Int) {
        self.segmentsTotal = segmentsTotal
        self.segmentsDone = segmentsDone
        self.secondsTotal = secondsTotal
        self.secondsDone = secondsDone
        self.passages = passages
    }
}
