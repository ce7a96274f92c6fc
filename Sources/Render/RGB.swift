/// A colour in sRGB, 8 bits a channel.
public struct RGB: Hashable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// The largest difference of one channel: how visible a change of this colour is.
    @inline(__always)
    public func distance(to other: RGB) -> Int {
        max(abs(Int(r) - Int(other.r)), abs(Int(g) - Int(other.g)), abs(Int(b) - Int(other.b)))
    }
}

/// How many colours the terminal shows.
public enum ColorMode: String, Sendable, CaseIterable {
    /// 24-bit colour (`CSI 38;2;r;g;b m`).
    case truecolor
    /// The xterm 256-colour palette (`CSI 38;5;n m`).
    case palette256 = "256"
    /// The 16 ANSI colours (`CSI 30-37/90-97 m`).
    case palette16 = "16"

    /// The palette index closest to `color` (unused in truecolor).
    public func index(of color: RGB) -> UInt8 {
        switch self {
        case .truecolor: return 0
        case .palette256: return Palette.nearest256(color)
        case .palette16: return Palette.nearest16(color)
        }
    }

    /// What the terminal will show for `color`: itself, or its palette colour.
    public func quantize(_ color: RGB) -> RGB {
        switch self {
        case .truecolor: return color
        case .palette256: return Palette.xterm256[Int(Palette.nearest256(color))]
        case .palette16: return Palette.ansi16[Int(Palette.nearest16(color))]
        }
    }
}

/// The standard terminal palettes and nearest-colour search.
public enum Palette {
    /// xterm's default 16 colours (VGA-like), as xterm and most terminals show them.
    public static let ansi16: [RGB] = [
        RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0), RGB(0, 0, 238), RGB(205, 0, 205), RGB(0, 205, 205),
        RGB(229, 229, 229), RGB(127, 127, 127), RGB(255, 0, 0), RGB(0, 255, 0), RGB(255, 255, 0), RGB(92, 92, 255),
        RGB(255, 0, 255), RGB(0, 255, 255), RGB(255, 255, 255),
    ]

    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The 256-colour palette: the 16 colours, a 6x6x6 cube, 24 greys.
    public static let xterm256: [RGB] = {
        var colors = ansi16
        for r in 0..<6 {
            for g in 0..<6 {
                for b in 0..<6 {
                    colors.append(RGB(UInt8(cubeLevels[r]), UInt8(cubeLevels[g]), UInt8(cubeLevels[b])))
                }
            }
        }
        for i in 0..<24 {
            let v = UInt8(8 + 10 * i)
            colors.append(RGB(v, v, v))
        }
        return colors
    }()

    @inline(__always)
    static func cubeIndex(_ v: UInt8) -> Int {
        // Midpoints between the cube's levels 0, 95, 135, 175, 215, 255.
        let value = Int(v)
        if value < 48 { return 0 }
        if value < 115 { return 1 }
        return min(5, (value - 35) / 40)
    }

    static func squaredDistance(_ a: RGB, _ b: RGB) -> Int {
        let dr = Int(a.r) - Int(b.r), dg = Int(a.g) - Int(b.g), db = Int(a.b) - Int(b.b)
        // Weighted towards green, as the eye is.
        return 2 * dr * dr + 4 * dg * dg + 3 * db * db
    }

    /// Nearest of the cube colour and the grey ramp (the 16 system colours are skipped:
    /// terminals redefine them).
    public static func nearest256(_ color: RGB) -> UInt8 {
        let ri = cubeIndex(color.r), gi = cubeIndex(color.g), bi = cubeIndex(color.b)
        let cube = 16 + 36 * ri + 6 * gi + bi
        let average = (Int(color.r) + Int(color.g) + Int(color.b)) / 3
        let greyIndex = min(23, max(0, (average - 3) / 10))
        let grey = 232 + greyIndex
        return squaredDistance(color, xterm256[cube]) <= squaredDistance(color, xterm256[grey]) ? UInt8(cube) : UInt8(grey)
    }

    public static func nearest16(_ color: RGB) -> UInt8 {
        var best = 0
        var bestDistance = Int.max
        for (index, candidate) in ansi16.enumerated() {
            let distance = squaredDistance(color, candidate)
            if distance < bestDistance {
                bestDistance = distance
                best = index
            }
        }
        return UInt8(best)
    }
}
