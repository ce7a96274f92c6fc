public import Foundation
public import Media

/// The detector's description, written beside its model at install time
/// (scripts/analysis/darknet2openvino.py): input size, anchors, class names.
public struct DetectorDescription: Sendable, Codable {
    public struct Input: Sendable, Codable {
        public let width: Int
        public let height: Int
    }
    public struct Output: Sendable, Codable {
        public let anchors: [[Double]]
    }
    public let format: String
    public let name: String?
    public let input: Input
    public let outputs: [Output]
    public let classes: [String]

    public static func load(model: URL) throws(AnalysisUnavailable) -> DetectorDescription {
        let url = model.deletingPathExtension().appendingPathExtension("json")
        guard let data = try? Data(contentsOf: url) else { throw AnalysisUnavailable("no detector description at \(url.path)") }
        guard let description = try? JSONDecoder().decode(DetectorDescription.self, from: data), description.format == "darknet-yolo" else {
            throw AnalysisUnavailable("\(url.path) is not a darknet-yolo detector description")
        }
        return description
    }
}

/// A YOLO detector on OpenVINO: one network for the whole picture (the periodic look for
/// standing vehicles) and, for the regions where something moves, networks whose input fits
/// each region at about its own size (sides multiples of 32, at most `regionSide`): a small
/// region costs a small inference, instead of being enlarged to one fixed square. They are
/// compiled when first needed and kept. Used by one thread (a camera's analysis).
public final class ObjectDetector {
    private let engine: InferenceEngine
    private let model: URL
    private let whole: Network
    private let wholeDecoder: YOLODecoder
    private var regionNetworks: [Int: (Network, YOLODecoder)] = [:]
    private let anchors: [[(Double, Double)]]
    /// The largest side of a region network's input.
    public let regionSide: Int
    /// How much a region may be enlarged to fill its network (small objects gain from it).
    public let regionScale: Double
    public let description: DetectorDescription
    /// Inferences run.
    public private(set) var inferences = 0

    /// `pictureWidth` x `pictureHeight`: the analysed pictures' size; the whole-picture
    /// network keeps their proportions (its sides multiples of 32).
    public init(engine: InferenceEngine, model: URL, pictureWidth: Int, pictureHeight: Int, regionSide: Int = 256, regionScale: Double = 1.0)
        throws(AnalysisUnavailable)
    {
        description = try DetectorDescription.load(model: model)
        self.engine = engine
        self.model = model
        self.regionSide = max(64, regionSide / 32 * 32)
        self.regionScale = max(0.25, regionScale)
        let wholeWidth = 416
        let wholeHeight = max(64, Int((Double(wholeWidth) * Double(pictureHeight) / Double(pictureWidth) / 32).rounded(.up)) * 32)
        whole = try engine.network(model: model, inputShape: [1, 3, wholeHeight, wholeWidth])
        anchors = description.outputs.map { $0.anchors.map { ($0[0], $0[1]) } }
        wholeDecoder = YOLODecoder(anchors: anchors, classCount: description.classes.count, inputWidth: wholeWidth, inputHeight: wholeHeight)
    }

    /// Objects in the whole picture.
    public func detect(_ image: RGBImage) throws(AnalysisUnavailable) -> [Detection] {
        try run(whole, wholeDecoder, image, Box(x0: 0, y0: 0, x1: Double(image.width), y1: Double(image.height)))
    }

    /// The input (width, height) of the network for a region of `width` x `height` pixels.
    public static func regionInput(width: Double, height: Double, side: Int, scale: Double) -> (width: Int, height: Int) {
        let s = min(scale, Double(side) / max(1, width), Double(side) / max(1, height))
        func fit(_ length: Double) -> Int { min(side, max(64, Int((length * s / 32).rounded(.up)) * 32)) }
        return (fit(width), fit(height))
    }

    /// Objects in a region of the picture (boxes in the picture's pixels).
    public func detect(_ image: RGBImage, in area: Box) throws(AnalysisUnavailable) -> [Detection] {
        let input = ObjectDetector.regionInput(width: area.width, height: area.height, side: regionSide, scale: regionScale)
        let key = input.width * 10_000 + input.height
        if regionNetworks[key] == nil {
            let network = try engine.network(model: model, inputShape: [1, 3, input.height, input.width])
            regionNetworks[key] = (network, YOLODecoder(anchors: anchors, classCount: description.classes.count, inputWidth: input.width, inputHeight: input.height))
        }
        let (network, decoder) = regionNetworks[key]!
        return try run(network, decoder, image, area)
    }

    private func run(_ network: Network, _ decoder: YOLODecoder, _ image: RGBImage, _ area: Box) throws(AnalysisUnavailable) -> [Detection] {
        let inputHeight = network.inputShape[2], inputWidth = network.inputShape[3]
        let scale = min(Double(inputWidth) / max(1, area.width), Double(inputHeight) / max(1, area.height))
        let contentW = Int(area.width * scale), contentH = Int(area.height * scale)
        let padX = (inputWidth - contentW) / 2, padY = (inputHeight - contentH) / 2
        let plane = inputWidth * inputHeight
        let input = network.input
        // Letterboxed, grey padding, nearest-neighbour sampling, planar RGB in 0...1.
        for i in 0..<(3 * plane) { input[i] = 0.5 }
        image.pixels.withUnsafeBufferPointer { p in
            let inverse = 1 / scale
            for y in 0..<contentH {
                let sy = min(image.height - 1, max(0, Int(area.y0 + (Double(y) + 0.5) * inverse)))
                let row = (y + padY) * inputWidth + padX
                for x in 0..<contentW {
                    let sx = min(image.width - 1, max(0, Int(area.x0 + (Double(x) + 0.5) * inverse)))
                    let o = (sy * image.width + sx) * 3
                    input[row + x] = Float(p[o]) / 255
                    input[plane + row + x] = Float(p[o + 1]) / 255
                    input[2 * plane + row + x] = Float(p[o + 2]) / 255
                }
            }
        }
        let outputs = try network.infer()
        inferences += 1
        let letterbox = YOLODecoder.Letterbox(originX: area.x0, originY: area.y0, scale: scale, padX: Double(padX), padY: Double(padY))
        return decoder.decode(outputs.map { ($0.shape, $0.values) }, letterbox: letterbox)
            .map { var d = $0; d.box = d.box.clamped(width: Double(image.width), height: Double(image.height)); return d }
            .filter { $0.box.height >= 10 && $0.box.width >= 6 }
    }
}
