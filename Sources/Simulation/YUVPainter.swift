import Media

/// A colour as the painter stores it: BT.601 limited-range Y, Cb, Cr (what cameras send
/// and what libswscale turns back into the same sRGB).
struct YUVColor: Sendable {
    let y: UInt8
    let cb: UInt8
    let cr: UInt8

    init(r: UInt8, g: UInt8, b: UInt8) {
        let rf = Double(r), gf = Double(g), bf = Double(b)
        y = UInt8(clamping: Int((16 + (65.481 * rf + 128.553 * gf + 24.966 * bf) / 255).rounded()))
        cb = UInt8(clamping: Int((128 + (-37.797 * rf - 74.203 * gf + 112.0 * bf) / 255).rounded()))
        cr = UInt8(clamping: Int((128 + (112.0 * rf - 93.786 * gf - 18.214 * bf) / 255).rounded()))
    }

    init(_ rgb: (r: UInt8, g: UInt8, b: UInt8)) { self.init(r: rgb.r, g: rgb.g, b: rgb.b) }
}

extension YUV420Image {
    /// Fills the pixel rectangle [x0, x1) x [y0, y1), clipped to the picture.
    mutating func fill(x0: Int, y0: Int, x1: Int, y1: Int, _ color: YUVColor) {
        let left = max(0, x0), right = min(width, x1), top = max(0, y0), bottom = min(height, y1)
        guard right > left, bottom > top else { return }
        let w = width
        luma.withUnsafeMutableBufferPointer { plane in
            for row in top..<bottom {
                (plane.baseAddress! + row * w + left).update(repeating: color.y, count: right - left)
            }
        }
        let cLeft = left / 2, cRight = (right + 1) / 2, cTop = top / 2, cBottom = (bottom + 1) / 2
        let cw = width / 2
        blueDifference.withUnsafeMutableBufferPointer { plane in
            for row in cTop..<cBottom {
                (plane.baseAddress! + row * cw + cLeft).update(repeating: color.cb, count: cRight - cLeft)
            }
        }
        redDifference.withUnsafeMutableBufferPointer { plane in
            for row in cTop..<cBottom {
                (plane.baseAddress! + row * cw + cLeft).update(repeating: color.cr, count: cRight - cLeft)
            }
        }
    }

    /// Fills a rectangle given in fractions of the picture's width and height.
    mutating func fill(fx0: Double, fy0: Double, fx1: Double, fy1: Double, _ color: YUVColor) {
        fill(
            x0: Int((fx0 * Double(width)).rounded()), y0: Int((fy0 * Double(height)).rounded()),
            x1: Int((fx1 * Double(width)).rounded()), y1: Int((fy1 * Double(height)).rounded()), color)
    }

    /// Draws `text` with the OSD font, each font pixel `scale` picture pixels wide.
    mutating func drawText(_ text: String, x: Int, y: Int, scale: Int, _ color: YUVColor) {
        var penX = x
        for character in text {
            let rows = OSDFont.rows(for: character)
            for (rowIndex, bits) in rows.enumerated() where bits != 0 {
                for column in 0..<OSDFont.glyphWidth where bits & (1 << (OSDFont.glyphWidth - 1 - column)) != 0 {
                    let px = penX + column * scale, py = y + rowIndex * scale
                    fill(x0: px, y0: py, x1: px + scale, y1: py + scale, color)
                }
            }
            penX += (OSDFont.glyphWidth + 1) * scale
        }
    }
}
