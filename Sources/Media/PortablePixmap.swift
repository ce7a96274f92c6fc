/// Binary PPM (P6, 8 bits): the passages' thumbnails as the recorder keeps and serves them.
public enum PortablePixmap {
    /// Largest side accepted: thumbnails are small, and a bad file must not allocate much.
    public static let largestSide = 4096

    /// The picture, or nil when the bytes are not a P6 of at most `largestSide` pixels a side.
    public static func decode(_ bytes: [UInt8]) -> RGBImage? {
        var index = 0
        func skipSpaceAndComments() {
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "#") {
                    while index < bytes.count && bytes[index] != 10 { index += 1 }
                } else if [9, 10, 13, 32].contains(bytes[index]) {
                    index += 1
                } else {
                    return
                }
            }
        }
        func number() -> Int? {
            skipSpaceAndComments()
            var value = 0, digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57, digits < 6 {
                value = value * 10 + Int(bytes[index] - 48)
                index += 1
                digits += 1
            }
            return digits > 0 ? value : nil
        }
        guard bytes.count > 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "6") else { return nil }
        index = 2
        guard let width = number(), let height = number(), let maximum = number(), maximum == 255,
            (1...largestSide).contains(width), (1...largestSide).contains(height), index < bytes.count
        else { return nil }
        index += 1  // the one white space after the maximum
        let count = width * height * 3
        guard bytes.count - index >= count else { return nil }
        return RGBImage(width: width, height: height, pixels: Array(bytes[index..<index + count]))
    }

    public static func encode(_ image: RGBImage) -> [UInt8] {
        Array("P6\n\(image.width) \(image.height)\n255\n".utf8) + image.pixels
    }
}

extension RGBImage {
    /// The picture at another size: each output pixel the mean of the input pixels it covers
    /// (at least the nearest one when enlarging).
    public func resampled(width outWidth: Int, height outHeight: Int) -> RGBImage {
        guard outWidth > 0, outHeight > 0, width > 0, height > 0 else { return RGBImage(width: max(1, outWidth), height: max(1, outHeight)) }
        if outWidth == width && outHeight == height { return self }
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        for oy in 0..<outHeight {
            let y0 = oy * height / outHeight, y1 = max(y0 + 1, (oy + 1) * height / outHeight)
            for ox in 0..<outWidth {
                let x0 = ox * width / outWidth, x1 = max(x0 + 1, (ox + 1) * width / outWidth)
                let mean = meanColor(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
                let o = (oy * outWidth + ox) * 3
                out[o] = UInt8(mean.r.rounded())
                out[o + 1] = UInt8(mean.g.rounded())
                out[o + 2] = UInt8(mean.b.rounded())
            }
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: out)
    }
}
