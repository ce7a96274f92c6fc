public import Media

/// The colour names a witness or an investigator uses for vehicles.
public enum ColourName: String, Sendable, Hashable, Codable, CaseIterable {
    case white, silver, grey, black, red, maroon, orange, brown, yellow, green, blue, purple, pink
}

/// The scene's light, measured on the whole picture: the analysis reads colours as they
/// would look under neutral light of a normal brightness (grey-world white balance and
/// exposure), so a red car in the shade, under a low sun or under sodium street lights is
/// still red, and a maroon one is still darker than a red one.
public struct SceneLight: Sendable, Hashable {
    public var gainR: Double
    public var gainG: Double
    public var gainB: Double

    public static let neutral = SceneLight(gainR: 1, gainG: 1, gainB: 1)

    public init(gainR: Double, gainG: Double, gainB: Double) {
        self.gainR = gainR
        self.gainG = gainG
        self.gainB = gainB
    }

    /// From the picture's mean colour: each channel brought to the mean's grey, then a dark
    /// picture (shade, night) brought up to a street scene's usual brightness; a bright one
    /// is not darkened (a sunny street is bright, its red cars are not maroon). The gains are
    /// bounded, so that a picture that really is mostly one colour is not turned grey.
    public init(meanR: Double, meanG: Double, meanB: Double, reference: Double = 118) {
        let grey = max(1, (meanR + meanG + meanB) / 3)
        let exposure = min(4, max(1, reference / grey))
        func gain(_ mean: Double) -> Double { min(1.5, max(0.67, grey / max(1, mean))) * exposure }
        self.init(gainR: gain(meanR), gainG: gain(meanG), gainB: gain(meanB))
    }

    /// The light of a whole picture, sampled on a grid.
    public init(of image: RGBImage, step: Int = 7) {
        var r = 0.0, g = 0.0, b = 0.0, n = 0.0
        image.pixels.withUnsafeBufferPointer { p in
            var y = 0
            while y < image.height {
                var x = 0
                while x < image.width {
                    let o = (y * image.width + x) * 3
                    r += Double(p[o]); g += Double(p[o + 1]); b += Double(p[o + 2]); n += 1
                    x += step
                }
                y += step
            }
        }
        self.init(meanR: r / max(1, n), meanG: g / max(1, n), meanB: b / max(1, n))
    }
}

/// Names the colour of an object from the pixels inside its box. Pure.
public enum ColourNaming {
    /// The name of one colour (already corrected for the scene's light), 0-255 channels.
    public static func name(r: Double, g: Double, b: Double) -> ColourName {
        let r = min(255, max(0, r)) / 255, g = min(255, max(0, g)) / 255, b = min(255, max(0, b)) / 255
        let maxC = max(r, g, b), minC = min(r, g, b)
        let v = maxC, delta = maxC - minC
        let s = maxC > 0 ? delta / maxC : 0
        if v < 0.2 || (v < 0.32 && s < 0.45) { return .black }
        if s < 0.2 || delta < 0.09 {
            if v > 0.8 { return .white }
            if v > 0.55 { return .silver }
            return .grey
        }
        var h: Double
        if maxC == r { h = 60 * ((g - b) / delta) } else if maxC == g { h = 60 * ((b - r) / delta + 2) } else { h = 60 * ((r - g) / delta + 4) }
        if h < 0 { h += 360 }
        switch h {
        case 345..., ..<11:
            if s < 0.55 && v > 0.6 { return .pink }
            return v < 0.58 ? .maroon : .red
        case 11..<20: return v < 0.5 ? .brown : (s < 0.55 && v > 0.6 ? .pink : .red)
        case 20..<42: return v < 0.62 ? .brown : .orange
        case 42..<70: return v < 0.5 ? .brown : .yellow
        case 70..<165: return .green
        case 165..<255: return .blue
        case 255..<295: return .purple
        default: return .pink
        }
    }

    /// Votes of the pixels of the box's body band (between the windows and the wheels for a
    /// vehicle, the torso for a person), corrected for `light`: counts per name.
    public static func votes(in image: RGBImage, box: Box, objectClass: ObjectClass, light: SceneLight) -> [ColourName: Int] {
        // The band of the box where the body's own colour is: below the windows, above the
        // wheels and the road (vehicles seen from the side or the front alike).
        let top = objectClass == .person ? 0.2 : 0.45, bottom = objectClass == .person ? 0.55 : 0.78
        let x0 = Int(box.x0 + box.width * 0.12), x1 = Int(box.x1 - box.width * 0.12)
        let y0 = Int(box.y0 + box.height * top), y1 = Int(box.y0 + box.height * bottom)
        let left = max(0, x0), right = min(image.width, x1), upper = max(0, y0), lower = min(image.height, y1)
        guard right > left, lower > upper else { return [:] }
        var counts = [Int](repeating: 0, count: ColourName.allCases.count)
        let stepX = max(1, (right - left) / 24), stepY = max(1, (lower - upper) / 10)
        image.pixels.withUnsafeBufferPointer { p in
            var y = upper
            while y < lower {
                var x = left
                while x < right {
                    let o = (y * image.width + x) * 3
                    let n = name(r: Double(p[o]) * light.gainR, g: Double(p[o + 1]) * light.gainG, b: Double(p[o + 2]) * light.gainB)
                    counts[ColourName.allCases.firstIndex(of: n)!] += 1
                    x += stepX
                }
                y += stepY
            }
        }
        var result: [ColourName: Int] = [:]
        for (i, c) in counts.enumerated() where c > 0 { result[ColourName.allCases[i]] = c }
        return result
    }

    /// The names of a whole passage's votes with their shares, most voted first; names
    /// under `floor` of the votes are dropped.
    public static func ranked(_ votes: [ColourName: Int], floor: Double = 0.15) -> [(name: ColourName, confidence: Double)] {
        let total = Double(votes.values.reduce(0, +))
        guard total > 0 else { return [] }
        return votes.map { ($0.key, Double($0.value) / total) }
            .filter { $0.1 >= floor }
            .sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0.rawValue < $1.0.rawValue) }
    }
}

/// What an object looks like, for following it from camera to camera, read like its colour
/// names (inside the box, corrected for the scene's light) so that the same vehicle in the
/// shade, under a low sun or at night still looks like itself: the colour names of the body
/// band and of the band above it (windows and roof; for a person, the clothes of the legs
/// and of the torso), a finer histogram of the body's hue (each hue spread over its neighbours,
/// so a drift of the light's colour moves it a little, not to another bin), and the shape's
/// proportions. Describes vehicles; for a person it holds only clothing colours (no face, no
/// biometrics). Compared part by part by cosine similarity.
public enum Appearance {
    static let names = ColourName.allCases.count
    static let hues = 24
    /// The parts: body names, upper names, body hues; then the shape.
    static let parts: [(range: Range<Int>, weight: Double)] = [
        (0..<names, 0.45), (names..<(2 * names), 0.2), ((2 * names)..<(2 * names + hues), 0.35),
    ]
    public static let length = 2 * names + hues + 1


    public static func descriptor(in image: RGBImage, box: Box, light: SceneLight, objectClass: ObjectClass = .car) -> [Float] {
        var d = [Float](repeating: 0, count: length)
        let person = objectClass == .person
        let bands: [(top: Double, bottom: Double, offset: Int, hues: Bool)] = person
            ? [(0.55, 0.9, 0, false), (0.2, 0.55, names, true)]
            : [(0.45, 0.78, 0, true), (0.12, 0.45, names, false)]
        let left = max(0, Int(box.x0 + box.width * 0.1)), right = min(image.width, Int(box.x1 - box.width * 0.1))
        guard right > left else { return d }
        let stepX = max(1, (right - left) / 28)
        image.pixels.withUnsafeBufferPointer { p in
            for band in bands {
                let upper = max(0, Int(box.y0 + box.height * band.top)), lower = min(image.height, Int(box.y0 + box.height * band.bottom))
                guard lower > upper else { continue }
                let stepY = max(1, (lower - upper) / 10)
                var y = upper
                while y < lower {
                    var x = left
                    while x < right {
                        let o = (y * image.width + x) * 3
                        let r = Double(p[o]) * light.gainR, g = Double(p[o + 1]) * light.gainG, b = Double(p[o + 2]) * light.gainB
                        let name = ColourNaming.name(r: r, g: g, b: b)
                        d[band.offset + ColourName.allCases.firstIndex(of: name)!] += 1
                        if band.hues {
                            let rr = min(255, r) / 255, gg = min(255, g) / 255, bb = min(255, b) / 255
                            let maxC = max(rr, gg, bb), delta = maxC - min(rr, gg, bb)
                            let saturation = maxC > 0 ? delta / maxC : 0
                            if saturation >= 0.25 && maxC >= 0.2 && delta >= 0.08 {
                                var h: Double
                                if maxC == rr { h = 60 * ((gg - bb) / delta) } else if maxC == gg { h = 60 * ((bb - rr) / delta + 2) } else { h = 60 * ((rr - gg) / delta + 4) }
                                if h < 0 { h += 360 }
                                // Spread over the hues within two bins (30°): a light's cast that
                                // white balance did not quite undo still overlaps.
                                let position = h / (360 / Double(hues))
                                let low = Int(position)
                                for k in (low - 1)...(low + 2) {
                                    let weight = max(0, 1 - abs(Double(k) - position) / 2)
                                    d[2 * names + (k + hues) % hues] += Float(saturation * weight)
                                }
                            }
                        }
                        x += stepX
                    }
                    y += stepY
                }
            }
        }
        normalise(&d)
        d[length - 1] = Float(min(4, box.width / max(1, box.height))) / 4
        return d
    }

    /// Each part brought to unit length (an empty part stays empty).
    static func normalise(_ d: inout [Float]) {
        for part in parts {
            var norm: Float = 0
            for i in part.range { norm += d[i] * d[i] }
            norm = norm.squareRoot()
            if norm > 0 { for i in part.range { d[i] /= norm } }
        }
    }

    /// 1 for the same look, 0 for nothing in common: the parts' cosines, weighted (a part
    /// that neither has is left out; one that only one has counts as nothing in common).
    public static func similarity(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == length, b.count == length else { return 0 }
        var total = 0.0, weights = 0.0
        for part in parts {
            var dot: Float = 0, na: Float = 0, nb: Float = 0
            for i in part.range {
                dot += a[i] * b[i]
                na += a[i] * a[i]
                nb += b[i] * b[i]
            }
            if na == 0 && nb == 0 { continue }
            weights += part.weight
            if na > 0 && nb > 0 { total += part.weight * Double(dot / (na * nb).squareRoot()) }
        }
        guard weights > 0 else { return 0 }
        let shape = 1 - min(1, abs(a[length - 1] - b[length - 1]) * 2)
        return total / weights * (0.85 + 0.15 * Double(shape))
    }

    /// The mean of several descriptors (a passage's, over its pictures), normalised again.
    public static func mean(_ all: [[Float]]) -> [Float] {
        guard let first = all.first else { return [Float](repeating: 0, count: length) }
        var sum = [Float](repeating: 0, count: first.count)
        for d in all where d.count == sum.count { for i in 0..<sum.count { sum[i] += d[i] } }
        guard sum.count == length else { return sum }
        normalise(&sum)
        sum[length - 1] /= Float(all.count)
        return sum
    }
}
