public import Foundation
public import Media

/// Draws one simulated camera's picture: façades, pavements, the road with parked and
/// passing vehicles and pedestrians from the city's ground truth, sensor noise, and a
/// burned-in OSD (camera name, date and time) as real cameras have.
///
/// Geometry is in fractions of the picture, so the main and the sub stream show the same
/// scene at any size. Deterministic: the same camera, size and frame give the same pixels.
public struct StreetScene: Sendable {
    public let camera: SimulatedCameraSpec
    public let city: SimulatedCity
    public let width: Int
    public let height: Int
    private let background: YUV420Image
    private let visits: [Visit]
    private let osdName: String
    /// One OSD clock text per second of the loop.
    private let osdClock: [String]
    private let osdScale: Int
    private let noise: [Int8]
    private let lighting: SimulatedLighting
    private let lampPost: Double?

    /// Picture rows, as fractions of the height.
    static let facadeBottom = 0.52
    static let farPavementBottom = 0.57
    static let parkingBottom = 0.645
    static let farLaneBottom = 0.755
    static let centreLine = 0.762...0.770
    static let nearLaneBottom = 0.875
    static let nearPavementBottom = 0.975

    /// `clockStart` is the wall-clock time the OSD shows at the loop's first frame.
    public init(camera: SimulatedCameraSpec, city: SimulatedCity, width: Int, height: Int, clockStart: Date, timeZone: TimeZone) {
        self.camera = camera
        self.city = city
        self.width = width
        self.height = height
        self.visits = city.visits(camera: camera.id)
        self.osdName = camera.name.uppercased()
        self.osdScale = max(1, height / 180)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "fr_FR")
        formatter.timeZone = timeZone
        formatter.dateFormat = "dd/MM/yyyy HH:mm:ss"
        self.osdClock = (0..<city.loopSeconds).map { formatter.string(from: clockStart.addingTimeInterval(Double($0))) }
        var random = StableRandom(seed: StableRandom.seed(camera.id, salt: 99))
        self.noise = (0..<(1 << 16)).map { _ in
            // Triangular noise in -3...3, like a small sensor's grain.
            Int8(Int(random.next() % 4) + Int(random.next() % 4) - 3)
        }
        self.lighting = city.lighting(camera: camera.id)
        self.lampPost = city.lampPost(camera: camera.id)
        self.background = StreetScene.drawBackground(camera: camera, city: city, width: width, height: height)
    }

    /// The picture at loop frame `frame` (0 ..< loopSeconds * framesPerSecond).
    public func render(frame: Int) -> YUV420Image {
        var image = background
        let t = Double(frame) / Double(city.framesPerSecond)
        // Far side first, near side last, so nearer things cover farther ones.
        for lane in [0, 1] {
            for visit in visits where visit.lane == lane && visit.agent.kind == .pedestrian {
                if let progress = city.progress(of: visit, atLoopTime: t) { drawPedestrian(visit, progress, frame, &image) }
            }
            for visit in visits where visit.lane == lane && visit.agent.kind != .pedestrian {
                if let progress = city.progress(of: visit, atLoopTime: t) { drawVehicle(visit, progress, &image) }
            }
        }
        if let post = lampPost { drawLampPost(at: post, &image) }
        light(&image)
        drawOSD(second: Int(t), &image)
        addNoise(frame: frame, &image)
        return image
    }

    /// Where a vehicle of `kind` is drawn: its left edge and its length, in pixels.
    func vehicleExtent(kind: AgentKind, direction: CrossingDirection, progress: Double) -> (x: Int, length: Int) {
        let length = Int(Double(width) * (kind == .van ? 0.19 : 0.17))
        let travel = Double(width + length)
        let x = direction == .leftToRight ? Int(progress * travel) - length : width - Int(progress * travel)
        return (x, length)
    }

    private func painter(_ visit: Visit, _ progress: Double) -> VehiclePainter {
        let (x, length) = vehicleExtent(kind: visit.agent.kind, direction: visit.direction, progress: progress)
        let bottom = Int(Double(height) * (visit.lane == 0 ? StreetScene.farLaneBottom : StreetScene.nearLaneBottom))
        return VehiclePainter(
            kind: visit.agent.kind, rgb: visit.agent.color.rgb, x: x, length: length, bottom: bottom,
            height: VehiclePainter.vehicleHeight(kind: visit.agent.kind, length: length), facingRight: visit.direction == .leftToRight)
    }

    /// The rectangle of a passing vehicle's body (its dominant colour), for tests and
    /// for checking the "red car" search against the truth: x0, y0, x1, y1 in pixels.
    public func bodyRectangle(of visit: Visit, atLoopTime t: Double) -> (x0: Int, y0: Int, x1: Int, y1: Int)? {
        guard visit.agent.kind != .pedestrian, let progress = city.progress(of: visit, atLoopTime: t) else { return nil }
        return painter(visit, progress).bodyRectangle
    }

    private func drawVehicle(_ visit: Visit, _ progress: Double, _ image: inout YUV420Image) {
        painter(visit, progress).draw(&image)
    }

    private func drawPedestrian(_ visit: Visit, _ progress: Double, _ frame: Int, _ image: inout YUV420Image) {
        let w = max(2, Int(Double(width) * 0.014))
        let h = Int(Double(height) * 0.17)
        let travel = Double(width + w)
        let x = visit.direction == .leftToRight ? Int(progress * travel) - w : width - Int(progress * travel)
        let bottom = Int(Double(height) * (visit.lane == 0 ? StreetScene.farPavementBottom : StreetScene.nearPavementBottom))
        let skin = YUVColor(r: 200, g: 160, b: 130)
        let trousers = YUVColor(r: 40, g: 44, b: 60)
        let coat = YUVColor(visit.agent.color.rgb)
        let hd = Double(h)
        image.fill(x0: x + w / 5, y0: bottom - h, x1: x + w - w / 5, y1: bottom - Int(hd * 0.82), skin)
        image.fill(x0: x, y0: bottom - Int(hd * 0.82), x1: x + w, y1: bottom - Int(hd * 0.4), coat)
        // Legs swing twice a second.
        let stride = (frame / (city.framesPerSecond / 4)) % 2 == 0 ? w / 4 : 0
        image.fill(x0: x + stride, y0: bottom - Int(hd * 0.4), x1: x + stride + w / 3, y1: bottom, trousers)
        image.fill(x0: x + w - w / 3 - stride, y0: bottom - Int(hd * 0.4), x1: x + w - stride, y1: bottom, trousers)
    }

    /// A lamp post on the near pavement, in front of both lanes.
    private func drawLampPost(at fraction: Double, _ image: inout YUV420Image) {
        let x = Int(fraction * Double(width)), w = max(3, width / 70)
        image.fill(x0: x, y0: Int(Double(height) * 0.22), x1: x + w, y1: Int(Double(height) * 0.975), YUVColor(r: 44, g: 58, b: 52))
        image.fill(x0: x - w, y0: Int(Double(height) * 0.2), x1: x + 2 * w, y1: Int(Double(height) * 0.235), YUVColor(r: 44, g: 58, b: 52))
        image.fill(x0: x - 2 * w, y0: Int(Double(height) * 0.94), x1: x + 3 * w, y1: Int(Double(height) * 0.975), YUVColor(r: 40, g: 44, b: 44))
    }

    /// The camera's light over the whole scene (not the OSD, which the camera draws after).
    private func light(_ image: inout YUV420Image) {
        let (gain, chromaGain, cbShift, crShift): (Double, Double, Int, Int)
        switch lighting {
        case .day: return
        case .shade: (gain, chromaGain, cbShift, crShift) = (0.55, 0.8, 6, -3)
        case .lowSun: (gain, chromaGain, cbShift, crShift) = (1.08, 1.0, -14, 12)
        case .night: (gain, chromaGain, cbShift, crShift) = (0.3, 0.55, -12, 9)
        }
        let lumaTable = (0..<256).map { UInt8(clamping: 16 + Int((Double($0 - 16) * gain).rounded())) }
        let cbTable = (0..<256).map { UInt8(clamping: 128 + Int((Double($0 - 128) * chromaGain).rounded()) + cbShift) }
        let crTable = (0..<256).map { UInt8(clamping: 128 + Int((Double($0 - 128) * chromaGain).rounded()) + crShift) }
        for i in image.luma.indices { image.luma[i] = lumaTable[Int(image.luma[i])] }
        for i in image.blueDifference.indices {
            image.blueDifference[i] = cbTable[Int(image.blueDifference[i])]
            image.redDifference[i] = crTable[Int(image.redDifference[i])]
        }
    }

    private func drawOSD(second: Int, _ image: inout YUV420Image) {
        let s = osdScale
        let white = YUVColor(r: 240, g: 240, b: 240), black = YUVColor(r: 0, g: 0, b: 0)
        let clock = osdClock[min(max(second, 0), osdClock.count - 1)]
        let clockX = width - OSDFont.textWidth(clock, scale: s) - 4 * s
        for (text, x) in [(osdName, 4 * s), (clock, clockX)] {
            image.drawText(text, x: x + s, y: 4 * s + s, scale: s, black)
            image.drawText(text, x: x, y: 4 * s, scale: s, white)
        }
    }

    private func addNoise(frame: Int, _ image: inout YUV420Image) {
        let mask = noise.count - 1
        var index = (frame &* 7919) & mask
        noise.withUnsafeBufferPointer { grain in
            image.luma.withUnsafeMutableBufferPointer { plane in
                for i in 0..<plane.count {
                    let value = Int(plane[i]) + Int(grain[index])
                    plane[i] = UInt8(clamping: value)
                    index = (index + 1) & mask
                }
            }
        }
    }

    // MARK: - The still part of the picture

    private static func drawBackground(camera: SimulatedCameraSpec, city: SimulatedCity, width: Int, height: Int)
        -> YUV420Image
    {
        var image = YUV420Image(width: width, height: height)
        var random = StableRandom(seed: StableRandom.seed(camera.id, salt: 3))
        let skyShade = UInt8(Int(random.next() % 30))
        image.fill(fx0: 0, fy0: 0, fx1: 1, fy1: 0.3, YUVColor(r: 160 + skyShade, g: 182 + skyShade / 2, b: 208))

        // A row of buildings, Tours style: tuffeau, limestone, half-timbering, render.
        let facades: [(UInt8, UInt8, UInt8)] = [
            (226, 214, 186), (206, 200, 186), (232, 220, 196), (214, 190, 160), (190, 186, 178), (222, 206, 170),
        ]
        var x = -random.double(0, 0.08)
        while x < 1 {
            let w = random.double(0.12, 0.26)
            let top = random.double(0.04, 0.16)
            let wall = facades[Int(random.next() % UInt64(facades.count))]
            let halfTimbered = random.double(0, 1) < 0.3
            image.fill(fx0: x, fy0: top, fx1: x + w, fy1: top + 0.035, YUVColor(r: 70, g: 76, b: 88))  // slate
            image.fill(fx0: x, fy0: top + 0.035, fx1: x + w, fy1: facadeBottom, YUVColor(r: wall.0, g: wall.1, b: wall.2))
            if halfTimbered {
                let beam = YUVColor(r: 96, g: 60, b: 34)
                var bx = x
                while bx < x + w {
                    image.fill(fx0: bx, fy0: top + 0.035, fx1: bx + 0.006, fy1: facadeBottom - 0.12, beam)
                    bx += 0.03
                }
                var by = top + 0.08
                while by < facadeBottom - 0.12 {
                    image.fill(fx0: x, fy0: by, fx1: x + w, fy1: by + 0.008, beam)
                    by += 0.09
                }
            }
            // Windows in a grid, some with shutters.
            let columns = max(2, Int(w / 0.055))
            let shutter = YUVColor(r: 60 + UInt8(random.next() % 60), g: 90, b: 80)
            var wy = top + 0.07
            while wy < facadeBottom - 0.16 {
                for column in 0..<columns {
                    let wx = x + w * (Double(column) + 0.3) / Double(columns)
                    image.fill(fx0: wx, fy0: wy, fx1: wx + 0.022, fy1: wy + 0.06, YUVColor(r: 44, g: 54, b: 68))
                    if random.double(0, 1) < 0.3 {
                        image.fill(fx0: wx - 0.008, fy0: wy, fx1: wx, fy1: wy + 0.06, shutter)
                    }
                }
                wy += 0.1
            }
            // Ground floor: a shop front with its awning, or a door.
            if random.double(0, 1) < 0.6 {
                let awnings: [SimulatedColor] = [.red, .green, .blue, .orange, .brown]
                let awning = YUVColor(awnings[Int(random.next() % UInt64(awnings.count))].rgb)
                image.fill(fx0: x + 0.01, fy0: facadeBottom - 0.11, fx1: x + w - 0.01, fy1: facadeBottom - 0.085, awning)
                image.fill(
                    fx0: x + 0.015, fy0: facadeBottom - 0.085, fx1: x + w - 0.015, fy1: facadeBottom, YUVColor(r: 62, g: 72, b: 80))
            } else {
                image.fill(
                    fx0: x + w * 0.4, fy0: facadeBottom - 0.09, fx1: x + w * 0.6, fy1: facadeBottom, YUVColor(r: 80, g: 52, b: 36))
            }
            image.fill(fx0: x + w - 0.002, fy0: top, fx1: x + w, fy1: facadeBottom, YUVColor(r: 120, g: 116, b: 108))
            x += w
        }

        // Pavements, kerbs, road, centre line.
        image.fill(fx0: 0, fy0: facadeBottom, fx1: 1, fy1: farPavementBottom, YUVColor(r: 164, g: 160, b: 152))
        image.fill(fx0: 0, fy0: farPavementBottom, fx1: 1, fy1: nearLaneBottom + 0.01, YUVColor(r: 72, g: 72, b: 76))
        image.fill(fx0: 0, fy0: farPavementBottom, fx1: 1, fy1: farPavementBottom + 0.006, YUVColor(r: 200, g: 198, b: 192))
        var dash = random.double(0, 0.1)
        while dash < 1 {
            image.fill(fx0: dash, fy0: centreLine.lowerBound, fx1: dash + 0.05, fy1: centreLine.upperBound, YUVColor(r: 226, g: 226, b: 220))
            dash += 0.11
        }
        image.fill(fx0: 0, fy0: nearLaneBottom + 0.01, fx1: 1, fy1: 1, YUVColor(r: 152, g: 150, b: 144))
        image.fill(fx0: 0, fy0: nearLaneBottom + 0.01, fx1: 1, fy1: nearLaneBottom + 0.016, YUVColor(r: 200, g: 198, b: 192))

        for vehicle in city.parked(camera: camera.id) {
            let length = Int(Double(width) * (vehicle.agent.kind == .van ? 0.17 : 0.15))
            VehiclePainter(
                kind: vehicle.agent.kind, rgb: vehicle.agent.color.rgb, x: Int(vehicle.position * Double(width)),
                length: length, bottom: Int(Double(height) * parkingBottom),
                height: VehiclePainter.vehicleHeight(kind: vehicle.agent.kind, length: length), facingRight: true
            ).draw(&image)
        }
        return image
    }
}
