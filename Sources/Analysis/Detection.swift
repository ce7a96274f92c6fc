public import Foundation

/// A rectangle in the analysed picture's pixels.
public struct Box: Sendable, Hashable, Codable {
    public var x0: Double
    public var y0: Double
    public var x1: Double
    public var y1: Double

    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }

    public var width: Double { max(0, x1 - x0) }
    public var height: Double { max(0, y1 - y0) }
    public var area: Double { width * height }
    public var centreX: Double { (x0 + x1) / 2 }
    public var centreY: Double { (y0 + y1) / 2 }

    public func intersection(_ other: Box) -> Double {
        let w = min(x1, other.x1) - max(x0, other.x0), h = min(y1, other.y1) - max(y0, other.y0)
        return w > 0 && h > 0 ? w * h : 0
    }

    public func iou(_ other: Box) -> Double {
        let i = intersection(other)
        let union = area + other.area - i
        return union > 0 ? i / union : 0
    }

    public func union(_ other: Box) -> Box {
        Box(x0: min(x0, other.x0), y0: min(y0, other.y0), x1: max(x1, other.x1), y1: max(y1, other.y1))
    }

    /// Grown by `fraction` of its size on every side.
    public func expanded(by fraction: Double) -> Box {
        let dx = width * fraction, dy = height * fraction
        return Box(x0: x0 - dx, y0: y0 - dy, x1: x1 + dx, y1: y1 + dy)
    }

    public func clamped(width w: Double, height h: Double) -> Box {
        Box(x0: min(max(0, x0), w), y0: min(max(0, y0), h), x1: min(max(0, x1), w), y1: min(max(0, y1), h))
    }
}

/// What the index calls objects. People are counted and described by class only: no
/// face, no biometric feature is ever computed.
public enum ObjectClass: String, Sendable, Hashable, Codable, CaseIterable {
    case car
    case van  // van or truck
    case bus
    case motorcycle
    case bicycle
    case person

    public var isVehicle: Bool { self != .person }

    /// COCO's class numbers (what YOLO models trained on COCO output) for ours.
    public static func fromCOCO(_ index: Int) -> ObjectClass? {
        switch index {
        case 0: return .person
        case 1: return .bicycle
        case 2: return .car
        case 3: return .motorcycle
        case 5: return .bus
        case 7: return .van
        default: return nil
        }
    }

    /// Also accepted on the command line: "truck" is a van.
    public init?(query: String) {
        switch query.lowercased() {
        case "truck", "lorry", "van": self = .van
        case "motorbike", "scooter": self = .motorcycle
        case "bike": self = .bicycle
        case "pedestrian", "people": self = .person
        default: self.init(rawValue: query.lowercased())
        }
    }
}

/// One object found in one picture.
public struct Detection: Sendable, Hashable {
    public var box: Box
    public var objectClass: ObjectClass
    public var confidence: Double
    /// What it looks like (`Appearance.descriptor`), when known: the tracker does not join
    /// boxes that look different.
    public var descriptor: [Float]?

    public init(box: Box, objectClass: ObjectClass, confidence: Double, descriptor: [Float]? = nil) {
        self.box = box
        self.objectClass = objectClass
        self.confidence = confidence
        self.descriptor = descriptor
    }
}

/// Turns a Darknet YOLO network's raw outputs into detections: sigmoids, anchors, the
/// letterbox undone, then non-maximum suppression. Pure: tested on made-up tensors.
public struct YOLODecoder: Sendable {
    /// Anchors (width, height in input pixels) of each output, in output order.
    public let anchors: [[(Double, Double)]]
    public let classCount: Int
    public let inputWidth: Int
    public let inputHeight: Int
    public var threshold = 0.3
    public var overlap = 0.45

    public init(anchors: [[(Double, Double)]], classCount: Int, inputWidth: Int, inputHeight: Int) {
        self.anchors = anchors
        self.classCount = classCount
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
    }

    /// Where a region of the picture went in the network's input: input = (picture - origin) * scale + pad.
    public struct Letterbox: Sendable {
        public var originX: Double
        public var originY: Double
        public var scale: Double
        public var padX: Double
        public var padY: Double

        public init(originX: Double, originY: Double, scale: Double, padX: Double, padY: Double) {
            self.originX = originX
            self.originY = originY
            self.scale = scale
            self.padX = padX
            self.padY = padY
        }

        func toPicture(x: Double, y: Double) -> (Double, Double) { ((x - padX) / scale + originX, (y - padY) / scale + originY) }
    }

    static func sigmoid(_ x: Float) -> Double { 1 / (1 + exp(-Double(x))) }

    /// `outputs[i]` has shape [1, anchors * (5 + classes), gridHeight, gridWidth].
    public func decode(_ outputs: [(shape: [Int], values: [Float])], letterbox: Letterbox) -> [Detection] {
        var found: [Detection] = []
        let stride = 5 + classCount
        for (index, output) in outputs.enumerated() where index < anchors.count && output.shape.count == 4 {
            let gh = output.shape[2], gw = output.shape[3], plane = gh * gw
            let values = output.values
            guard values.count >= anchors[index].count * stride * plane else { continue }
            for (a, anchor) in anchors[index].enumerated() {
                let base = a * stride * plane
                for cell in 0..<plane {
                    let objectness = YOLODecoder.sigmoid(values[base + 4 * plane + cell])
                    guard objectness >= threshold else { continue }
                    var best = -1, bestScore = 0.0
                    for c in 0..<classCount where ObjectClass.fromCOCO(c) != nil {
                        let p = objectness * YOLODecoder.sigmoid(values[base + (5 + c) * plane + cell])
                        if p > bestScore { bestScore = p; best = c }
                    }
                    guard best >= 0, bestScore >= threshold, let objectClass = ObjectClass.fromCOCO(best) else { continue }
                    let cx = (YOLODecoder.sigmoid(values[base + cell]) + Double(cell % gw)) / Double(gw) * Double(inputWidth)
                    let cy = (YOLODecoder.sigmoid(values[base + plane + cell]) + Double(cell / gw)) / Double(gh) * Double(inputHeight)
                    let w = exp(Double(values[base + 2 * plane + cell])) * anchor.0
                    let h = exp(Double(values[base + 3 * plane + cell])) * anchor.1
                    let (x0, y0) = letterbox.toPicture(x: cx - w / 2, y: cy - h / 2)
                    let (x1, y1) = letterbox.toPicture(x: cx + w / 2, y: cy + h / 2)
                    found.append(Detection(box: Box(x0: x0, y0: y0, x1: x1, y1: y1), objectClass: objectClass, confidence: bestScore))
                }
            }
        }
        return YOLODecoder.suppress(found, overlap: overlap)
    }

    /// Non-maximum suppression: vehicles compete with vehicles whatever their class (a van
    /// seen as a car and as a truck is one van), people with people.
    public static func suppress(_ detections: [Detection], overlap: Double) -> [Detection] {
        var kept: [Detection] = []
        for candidate in detections.sorted(by: { $0.confidence > $1.confidence }) {
            let clash = kept.contains {
                $0.objectClass.isVehicle == candidate.objectClass.isVehicle
                    && ($0.box.iou(candidate.box) > overlap || $0.box.intersection(candidate.box) > 0.8 * min($0.box.area, candidate.box.area))
            }
            if !clash { kept.append(candidate) }
        }
        return kept
    }
}
