import Media

/// Draws vehicles seen from the side the way a street camera sees them, so that a
/// detector trained on real pictures (COCO) recognises them: a body with rounded ends,
/// a cabin with sloped pillars and windows, round wheels with hubs in their arches,
/// lamps, light from above (the roof lighter than the sills) and a shadow on the road.
/// Flat-coloured boxes are not cars to such a detector; these are.
struct VehiclePainter {
    let kind: AgentKind
    let rgb: (r: UInt8, g: UInt8, b: UInt8)
    /// Left edge, length and bottom (the road line under the wheels), in pixels.
    let x: Int
    let length: Int
    let bottom: Int
    let height: Int
    let facingRight: Bool

    /// The part of the vehicle at a point, in vehicle coordinates: `u` 0 at the rear,
    /// 1 at the front; `v` 0 at the road, 1 at the roof.
    enum Part { case body, sill, crease, glass, pillar, tyre, hub, hubCentre, headlamp, taillamp }

    static func vehicleHeight(kind: AgentKind, length: Int) -> Int {
        Int(Double(length) * (kind == .van ? 0.46 : 0.36))
    }

    func part(u: Double, v: Double) -> Part? {
        let aspect = Double(length) / Double(height)
        // Wheels first: they stand over the body's outline.
        let wheelRadius = 0.19
        for centre in [0.2, 0.8] {
            let du = (u - centre) * aspect, dv = v - 0.17
            let d2 = du * du + dv * dv
            if d2 < (wheelRadius * 0.2) * (wheelRadius * 0.2) { return .hubCentre }
            if d2 < (wheelRadius * 0.55) * (wheelRadius * 0.55) { return .hub }
            if d2 < wheelRadius * wheelRadius { return .tyre }
            if d2 < (wheelRadius * 1.18) * (wheelRadius * 1.18) && v < 0.36 { return .tyre }  // the arch's dark inside
        }
        if kind == .van { return vanPart(u: u, v: v, aspect: aspect) }
        let bodyTop = 0.6, bodyBottom = 0.16
        if v >= bodyBottom && v <= bodyTop && u >= 0 && u <= 1 {
            // Rounded corners.
            let r = 0.12, ru = r / aspect
            let cu = u < ru ? ru : (u > 1 - ru ? 1 - ru : u)
            let cv = v < bodyBottom + r ? bodyBottom + r : (v > bodyTop - r ? bodyTop - r : v)
            let du = (u - cu) * aspect, dv = v - cv
            if du * du + dv * dv > r * r { return nil }
            if u > 0.975 && v > bodyTop - 0.18 && v < bodyTop - 0.06 { return .headlamp }
            if u < 0.03 && v > bodyTop - 0.2 && v < bodyTop - 0.06 { return .taillamp }
            if abs(v - (bodyTop - 0.12)) < 0.012 { return .crease }
            if v < bodyBottom + 0.09 { return .sill }
            return .body
        }
        if v > bodyTop && v <= 1 {
            let f = (1 - v) / (1 - bodyTop)  // 0 at the roof, 1 at the waist
            let rear = 0.26 - 0.08 * f, front = 0.70 + 0.12 * f
            guard u >= rear && u <= front else { return nil }
            let rearGlass = 0.28 - 0.07 * f + 0.02, frontGlass = 0.69 + 0.10 * f - 0.02
            if v < 0.94 && v > bodyTop + 0.02 && u > rearGlass && u < frontGlass {
                return abs(u - 0.5) < 0.015 ? .pillar : .glass
            }
            return .body
        }
        return nil
    }

    private func vanPart(u: Double, v: Double, aspect: Double) -> Part? {
        guard u >= 0 && u <= 1 && v >= 0.14 && v <= 1 else { return nil }
        // A box with a sloped windscreen at the front, rounded roof edges.
        let nose = 0.86
        if u > nose {
            let slopeTop = 1 - (u - nose) / (1 - nose) * 0.45
            if v > slopeTop { return nil }
            if v > 0.55 && v < slopeTop - 0.05 && u < 0.985 { return .glass }
        } else if v > 0.55 && v < 0.9 && u > 0.7 && u < nose - 0.02 {
            return .glass
        }
        let r = 0.1, ru = r / aspect
        let cu = u < ru ? ru : u, cv = v > 1 - r ? 1 - r : v
        let du = (u - cu) * aspect, dv = v - cv
        if du * du + dv * dv > r * r { return nil }
        if u > 0.98 && v > 0.32 && v < 0.42 { return .headlamp }
        if u < 0.02 && v > 0.34 && v < 0.5 { return .taillamp }
        if abs(u - 0.62) < 0.004 && v < 0.88 { return .pillar }  // the sliding door's seam
        if abs(v - 0.42) < 0.01 { return .crease }
        if v < 0.22 { return .sill }
        return .body
    }

    func draw(_ image: inout YUV420Image) {
        let w = image.width, h = image.height
        let left = max(0, x), right = min(w, x + length)
        guard left < right, bottom - height < h, bottom >= 0 else { return }
        // The shadow on the road first.
        let cx = Double(x) + Double(length) / 2, ry = max(2.0, Double(height) * 0.07), rx = Double(length) * 0.56
        for py in max(0, bottom - Int(ry))..<max(max(0, bottom - Int(ry)), min(h, bottom + Int(ry) + 1)) {
            let dy = (Double(py) - Double(bottom)) / ry
            let half = rx * (1 - dy * dy).squareRoot()
            let from = max(0, Int(cx - half)), to = min(w, Int(cx + half))
            if from < to { for px in from..<to { image.darken(x: px, y: py, by: 0.55) } }
        }
        let glassColor = (r: 58.0, g: 70.0, b: 84.0)
        let body = (r: Double(rgb.r), g: Double(rgb.g), b: Double(rgb.b))
        for py in max(0, bottom - height)..<min(h, bottom + 1) where bottom - height < h {
            let v = Double(bottom - py) / Double(height)
            // Light from above: the roof catches more than the sills.
            let shade = 1.12 - 0.42 * (1 - v)
            for px in left..<right {
                var u = (Double(px - x) + 0.5) / Double(length)
                if !facingRight { u = 1 - u }
                guard let part = part(u: u, v: v) else { continue }
                let color: (r: Double, g: Double, b: Double)
                switch part {
                case .body: color = (body.r * shade, body.g * shade, body.b * shade)
                case .crease: color = (body.r * 1.3 + 22, body.g * 1.3 + 22, body.b * 1.3 + 22)
                case .sill: color = (body.r * 0.5, body.g * 0.5, body.b * 0.5)
                case .glass:
                    let s = 0.7 + 0.6 * v
                    color = (glassColor.r * s, glassColor.g * s, glassColor.b * s)
                case .pillar: color = (body.r * 0.6, body.g * 0.6, body.b * 0.6)
                case .tyre: color = (22, 22, 24)
                case .hub: color = (150, 152, 156)
                case .hubCentre: color = (90, 90, 94)
                case .headlamp: color = (250, 240, 200)
                case .taillamp: color = (190, 30, 30)
                }
                image.paint(x: px, y: py, YUVColor(r: UInt8(clamping: Int(color.r)), g: UInt8(clamping: Int(color.g)), b: UInt8(clamping: Int(color.b))))
            }
        }
    }

    /// The body's own colour region (no glass, wheels or lamps), for the ground truth:
    /// x0, y0, x1, y1 in pixels.
    var bodyRectangle: (x0: Int, y0: Int, x1: Int, y1: Int) {
        let top = kind == .van ? 0.85 : 0.58, low = kind == .van ? 0.45 : 0.3
        return (x + length / 10, bottom - Int(Double(height) * top), x + length - length / 10, bottom - Int(Double(height) * low))
    }
}

extension YUV420Image {
    /// Sets one pixel (its chroma sample is shared with three neighbours: last write wins).
    mutating func paint(x: Int, y: Int, _ color: YUVColor) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        luma[y * width + x] = color.y
        let c = (y / 2) * (width / 2) + x / 2
        blueDifference[c] = color.cb
        redDifference[c] = color.cr
    }

    /// Darkens one pixel towards black, keeping its hue (a shadow).
    mutating func darken(x: Int, y: Int, by factor: Double) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = y * width + x
        luma[i] = UInt8(clamping: 16 + Int(Double(Int(luma[i]) - 16) * factor))
        if x % 2 == 0 && y % 2 == 0 {
            let c = (y / 2) * (width / 2) + x / 2
            blueDifference[c] = UInt8(clamping: 128 + Int(Double(Int(blueDifference[c]) - 128) * factor))
            redDifference[c] = UInt8(clamping: 128 + Int(Double(Int(redDifference[c]) - 128) * factor))
        }
    }
}
