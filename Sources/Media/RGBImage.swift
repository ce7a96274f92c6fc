/// A packed 24-bit RGB picture (R, G, B bytes, row after row, no padding): what the
/// scaler produces for the renderer. A plain value: safe to hand between threads.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBImage: wrong pixel count")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black picture.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// The colour at (x, y).
    public func pixel(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        let offset = (y * width + x) * 3
        return (pixels[offset], pixels[offset + 1], pixels[offset + 2])
    }

    /// The mean colour of a rectangle (clipped to the picture).
    public func meanColor(x: Int, y: Int, width w: Int, height h: Int) -> (r: Double, g: Double, b: Double) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(width, x + w), y1 = min(height, y + h)
        guard x1 > x0, y1 > y0 else { return (0, 0, 0) }
        var sums = (0, 0, 0)
        for row in y0..<y1 {
            var offset = (row * width + x0) * 3
            for _ in x0..<x1 {
                sums.0 += Int(pixels[offset])
                sums.1 += Int(pixels[offset + 1])
                sums.2 += Int(pixels[offset + 2])
                offset += 3
            }
        }
        let count = Double((x1 - x0) * (y1 - y0))
        return (Double(sums.0) / count, Double(sums.1) / count, Double(sums.2) / count)
    }
}

/// A planar YUV 4:2:0 picture (BT.601 limited range, as cameras send): what the
/// simulator draws and the encoder takes. Width and height are even.
public struct YUV420Image: Sendable {
    public let width: Int
    public let height: Int
    public var luma: [UInt8]
    public var blueDifference: [UInt8]
    public var redDifference: [UInt8]

    public init(width: Int, height: Int) {
        precondition(width % 2 == 0 && height % 2 == 0, "YUV420Image: width and height must be even")
        self.width = width
        self.height = height
        luma = [UInt8](repeating: 16, count: width * height)
        blueDifference = [UInt8](repeating: 128, count: width * height / 4)
        redDifference = [UInt8](repeating: 128, count: width * height / 4)
    }
}
