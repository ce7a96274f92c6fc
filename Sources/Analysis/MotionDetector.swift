/// Finds what moves in a camera's picture against a background model: a running average
/// of a small grey picture, updated slowly where something moves (a car that stops fades
/// into the background after a while; the periodic full-picture detection finds it then).
/// Pure: grey cells in, boxes out.
public struct MotionDetector: Sendable {
    public let width: Int
    public let height: Int
    private var background: [Float] = []
    /// How fast the background follows the picture where nothing moves, and where something does.
    public var learning: Float = 0.05
    public var learningUnderMotion: Float = 0.003
    /// Smallest difference counted as motion, and its share of the scene's mean brightness
    /// (night pictures have less contrast).
    public var minimumDifference: Float = 7
    public var relativeDifference: Float = 0.1
    /// Smallest moving blob kept, in cells.
    public var minimumCells = 4

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Whether the model has seen a picture yet.
    public var isPrimed: Bool { !background.isEmpty }

    /// Forgets the background (a new segment after a gap, another camera).
    public mutating func reset() { background = [] }

    /// Feeds one grey picture (`width * height` values, 0-255); returns the moving blobs'
    /// boxes in cells. The first picture only primes the model.
    public mutating func update(_ grey: [Float]) -> [Box] {
        precondition(grey.count == width * height, "MotionDetector: wrong picture size")
        guard isPrimed else {
            background = grey
            return []
        }
        var mean: Float = 0
        for v in grey { mean += v }
        mean /= Float(max(1, grey.count))
        let threshold = max(minimumDifference, relativeDifference * mean)
        var mask = [Bool](repeating: false, count: grey.count)
        for i in 0..<grey.count {
            let d = grey[i] - background[i]
            let moving = abs(d) > threshold
            mask[i] = moving
            background[i] += d * (moving ? learningUnderMotion : learning)
        }
        return MotionDetector.blobs(dilate(mask), width: width, height: height, minimumCells: minimumCells)
    }

    private func dilate(_ mask: [Bool]) -> [Bool] {
        var out = mask
        for y in 0..<height {
            for x in 0..<width where mask[y * width + x] {
                for dy in -1...1 {
                    for dx in -1...1 {
                        let nx = x + dx, ny = y + dy
                        if nx >= 0 && ny >= 0 && nx < width && ny < height { out[ny * width + nx] = true }
                    }
                }
            }
        }
        return out
    }

    /// Bounding boxes of the 4-connected regions of at least `minimumCells` cells.
    static func blobs(_ mask: [Bool], width: Int, height: Int, minimumCells: Int) -> [Box] {
        var seen = [Bool](repeating: false, count: mask.count)
        var boxes: [Box] = []
        var stack: [Int] = []
        for start in 0..<mask.count where mask[start] && !seen[start] {
            seen[start] = true
            stack.append(start)
            var count = 0, x0 = width, y0 = height, x1 = 0, y1 = 0
            while let i = stack.popLast() {
                count += 1
                let x = i % width, y = i / width
                x0 = min(x0, x); y0 = min(y0, y); x1 = max(x1, x); y1 = max(y1, y)
                for n in [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, y > 0 ? i - width : -1, y < height - 1 ? i + width : -1]
                where n >= 0 && mask[n] && !seen[n] {
                    seen[n] = true
                    stack.append(n)
                }
            }
            if count >= minimumCells {
                boxes.append(Box(x0: Double(x0), y0: Double(y0), x1: Double(x1 + 1), y1: Double(y1 + 1)))
            }
        }
        return boxes
    }

    /// The regions to run the detector on: motion boxes grown by half their size, merged
    /// when they touch, each at least `minimumSide` (picture pixels) on a side.
    public static func regions(_ boxes: [Box], minimumSide: Double, pictureWidth: Double, pictureHeight: Double) -> [Box] {
        var regions = boxes.map { box -> Box in
            var grown = box.expanded(by: 0.5)
            if grown.width < minimumSide {
                let pad = (minimumSide - grown.width) / 2
                grown.x0 -= pad; grown.x1 += pad
            }
            if grown.height < minimumSide {
                let pad = (minimumSide - grown.height) / 2
                grown.y0 -= pad; grown.y1 += pad
            }
            // At an edge, the region slides inwards rather than shrinks.
            if grown.x0 < 0 { grown.x1 -= grown.x0; grown.x0 = 0 }
            if grown.y0 < 0 { grown.y1 -= grown.y0; grown.y0 = 0 }
            if grown.x1 > pictureWidth { grown.x0 -= grown.x1 - pictureWidth; grown.x1 = pictureWidth }
            if grown.y1 > pictureHeight { grown.y0 -= grown.y1 - pictureHeight; grown.y1 = pictureHeight }
            return grown.clamped(width: pictureWidth, height: pictureHeight)
        }
        var merged = true
        while merged {
            merged = false
            outer: for i in 0..<regions.count {
                for j in (i + 1)..<regions.count where regions[i].intersection(regions[j]) > 0 {
                    regions[i] = regions[i].union(regions[j])
                    regions.remove(at: j)
                    merged = true
                    break outer
                }
            }
        }
        return regions
    }
}
