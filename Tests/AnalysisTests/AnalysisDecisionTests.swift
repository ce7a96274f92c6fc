import Analysis
import Foundation
import Media
import RecorderCore
import Testing

/// The pipeline's pure parts alone: colour naming under the lights of real streets,
/// YOLO decoding, motion, tracking, and following by travel time.
@Suite struct ColourNamingTests {
    /// A street scene's mean colour and a vehicle's body, both under one light.
    static func lit(_ rgb: (Double, Double, Double), _ light: String) -> (Double, Double, Double) {
        switch light {
        case "shade": return (rgb.0 * 0.5, rgb.1 * 0.52, rgb.2 * 0.6)
        case "low-sun": return (min(255, rgb.0 * 1.15 + 10), rgb.1 * 1.0, rgb.2 * 0.78)
        case "night": return (rgb.0 * 0.32 + 6, rgb.1 * 0.26 + 3, rgb.2 * 0.16)
        default: return rgb
        }
    }

    static let street = (128.0, 124.0, 120.0)
    static let bodies: [(String, (Double, Double, Double))] = [
        ("red", (196, 28, 36)), ("maroon", (112, 24, 34)), ("orange", (226, 118, 30)), ("pink", (226, 122, 152)),
        ("blue", (28, 58, 158)), ("white", (232, 232, 228)), ("black", (24, 24, 28)), ("green", (28, 108, 58)), ("yellow", (228, 188, 36)),
    ]

    @Test(arguments: ["day", "shade", "low-sun", "night"])
    func closeShadesKeepTheirNamesUnderEveryLight(light: String) {
        let mean = ColourNamingTests.lit(ColourNamingTests.street, light)
        let scene = SceneLight(meanR: mean.0, meanG: mean.1, meanB: mean.2)
        for (name, rgb) in ColourNamingTests.bodies {
            let seen = ColourNamingTests.lit(rgb, light)
            let named = ColourNaming.name(r: seen.0 * scene.gainR, g: seen.1 * scene.gainG, b: seen.2 * scene.gainB)
            #expect(named.rawValue == name, "\(name) under \(light) read as \(named)")
        }
    }

    @Test func withoutTheSceneLightNightTurnsRedIntoSomethingElse() {
        // The correction is what makes night work: the raw pixel of a red car at night is not "red".
        let seen = ColourNamingTests.lit((196, 28, 36), "night")
        #expect(ColourNaming.name(r: seen.0, g: seen.1, b: seen.2) != .red)
    }

    @Test func votesComeFromTheBodyNotTheWindowsOrTheRoad() {
        // A red body band between dark windows (top) and the dark road and wheels (bottom).
        var image = RGBImage(width: 100, height: 60)
        for y in 0..<60 {
            for x in 0..<100 {
                let o = (y * 100 + x) * 3
                let colour: (UInt8, UInt8, UInt8) = y < 25 ? (40, 48, 60) : (y < 48 ? (196, 28, 36) : (30, 30, 32))
                image.pixels[o] = colour.0; image.pixels[o + 1] = colour.1; image.pixels[o + 2] = colour.2
            }
        }
        let votes = ColourNaming.votes(in: image, box: Box(x0: 0, y0: 0, x1: 100, y1: 60), objectClass: .car, light: .neutral)
        let ranked = ColourNaming.ranked(votes)
        #expect(ranked.first?.name == .red)
        #expect((ranked.first?.confidence ?? 0) > 0.7)
    }
}

@Suite struct AppearanceTests {
    /// A street picture under `light` with one car in it: windows over its body, wheels and road under it.
    static func car(_ body: (Double, Double, Double), _ light: String, van: Bool = false) -> (RGBImage, Box) {
        var image = RGBImage(width: 160, height: 90)
        let box = van ? Box(x0: 40, y0: 10, x1: 120, y1: 80) : Box(x0: 30, y0: 30, x1: 130, y1: 80)
        for y in 0..<90 {
            for x in 0..<160 {
                var colour = ColourNamingTests.street
                if Double(x) >= box.x0 && Double(x) < box.x1 && Double(y) >= box.y0 && Double(y) < box.y1 {
                    let v = (Double(y) - box.y0) / box.height
                    // The roof lighter than the sills, as daylight from above makes it.
                    let shade = 1.1 - 0.3 * v
                    colour = v < 0.4 ? (50, 58, 70) : (v < 0.82 ? (body.0 * shade, body.1 * shade, body.2 * shade) : (30, 30, 32))
                }
                let seen = ColourNamingTests.lit(colour, light)
                let o = (y * 160 + x) * 3
                image.pixels[o] = UInt8(min(255, max(0, seen.0)))
                image.pixels[o + 1] = UInt8(min(255, max(0, seen.1)))
                image.pixels[o + 2] = UInt8(min(255, max(0, seen.2)))
            }
        }
        return (image, box)
    }

    static func look(_ body: (Double, Double, Double), _ light: String, van: Bool = false) -> [Float] {
        let (image, box) = car(body, light, van: van)
        return Appearance.descriptor(in: image, box: box, light: SceneLight(of: image), objectClass: .car)
    }

    static let red = (196.0, 28.0, 36.0), maroon = (112.0, 24.0, 34.0), blue = (28.0, 58.0, 158.0), silver = (170.0, 172.0, 176.0)

    @Test(arguments: ["shade", "low-sun", "night"])
    func oneCarLooksLikeItselfUnderAnotherLightMoreThanAnotherColourDoes(light: String) {
        let day = AppearanceTests.look(AppearanceTests.red, "day")
        let there = AppearanceTests.look(AppearanceTests.red, light)
        let same = Appearance.similarity(day, there)
        #expect(same > 0.75, "red by day against red under \(light): \(same)")
        for (name, other) in [("maroon", AppearanceTests.maroon), ("blue", AppearanceTests.blue), ("silver", AppearanceTests.silver)] {
            let different = Appearance.similarity(day, AppearanceTests.look(other, light))
            #expect(different < same - 0.2, "red by day against \(name) under \(light): \(different), the red itself \(same)")
        }
    }

    @Test func aVanOfTheSameColourLooksLessAlikeThanTheSameCar() {
        let car = AppearanceTests.look(AppearanceTests.blue, "day")
        #expect(Appearance.similarity(car, AppearanceTests.look(AppearanceTests.blue, "day", van: true)) < Appearance.similarity(car, AppearanceTests.look(AppearanceTests.blue, "shade")))
    }

    @Test func aDescriptorOfAnotherLengthIsNothingAlike() {
        let car = AppearanceTests.look(AppearanceTests.red, "day")
        #expect(Appearance.similarity(car, car) > 0.99)
        #expect(Appearance.similarity(car, [Float](repeating: 0.1, count: 61)) == 0)
        #expect(Appearance.similarity(car, Appearance.mean([car, car])) > 0.99)
    }
}

@Suite struct YOLODecoderTests {
    /// One output of 3 anchors x (5 + 80) channels on a 2x2 grid, all "nothing" but one cell.
    func output(cell: Int, anchor: Int, cls: Int, objectness: Float = 4, classScore: Float = 4, tx: Float = 0, tw: Float = 0) -> (shape: [Int], values: [Float]) {
        let plane = 4, stride = 85
        var values = [Float](repeating: -8, count: 3 * stride * plane)
        let base = anchor * stride * plane
        values[base + cell] = tx
        values[base + plane + cell] = 0
        values[base + 2 * plane + cell] = tw
        values[base + 3 * plane + cell] = 0
        values[base + 4 * plane + cell] = objectness
        values[base + (5 + cls) * plane + cell] = classScore
        return ([1, 255, 2, 2], values)
    }

    @Test func decodesACarWhereTheCellAndAnchorPutIt() {
        let decoder = YOLODecoder(anchors: [[(10, 10), (20, 20), (40, 20)]], classCount: 80, inputWidth: 64, inputHeight: 64)
        // Cell 3 = (1, 1): centre at (0.5 + 1) / 2 * 64 = 48; anchor 2 is 40 x 20.
        let found = decoder.decode([output(cell: 3, anchor: 2, cls: 2)], letterbox: .init(originX: 100, originY: 50, scale: 0.5, padX: 0, padY: 0))
        #expect(found.count == 1)
        let car = found[0]
        #expect(car.objectClass == .car)
        #expect(abs(car.box.centreX - (100 + 48 / 0.5)) < 0.01)
        #expect(abs(car.box.width - 80) < 0.01)
        #expect(abs(car.box.height - 40) < 0.01)
        #expect(car.confidence > 0.95)
    }

    @Test func ignoresClassesTheIndexDoesNotKeepAndWeakObjects() {
        let decoder = YOLODecoder(anchors: [[(10, 10), (20, 20), (40, 20)]], classCount: 80, inputWidth: 64, inputHeight: 64)
        #expect(decoder.decode([output(cell: 0, anchor: 0, cls: 16)], letterbox: .init(originX: 0, originY: 0, scale: 1, padX: 0, padY: 0)).isEmpty)  // a dog
        #expect(decoder.decode([output(cell: 0, anchor: 0, cls: 2, objectness: -3)], letterbox: .init(originX: 0, originY: 0, scale: 1, padX: 0, padY: 0)).isEmpty)
    }

    @Test func oneVanSeenAsCarAndTruckIsOneDetectionButTwoCarsSideBySideAreTwo() {
        let van = Box(x0: 0, y0: 0, x1: 100, y1: 50)
        let kept = YOLODecoder.suppress(
            [
                Detection(box: van, objectClass: .car, confidence: 0.6), Detection(box: Box(x0: 4, y0: 2, x1: 102, y1: 50), objectClass: .van, confidence: 0.8),
                Detection(box: Box(x0: 150, y0: 0, x1: 250, y1: 50), objectClass: .car, confidence: 0.7),
            ], overlap: 0.45)
        #expect(kept.count == 2)
        #expect(kept[0].objectClass == .van)
    }
}

@Suite struct MotionTests {
    @Test func aMovingBlockIsFoundWhereItIsAndAStillSceneIsNot() {
        var motion = MotionDetector(width: 40, height: 20)
        func picture(blockAt x: Int?) -> [Float] {
            var grey = [Float](repeating: 90, count: 800)
            if let x { for y in 8..<13 { for dx in 0..<6 { grey[y * 40 + x + dx] = 200 } } }
            return grey
        }
        #expect(motion.update(picture(blockAt: nil)).isEmpty)  // primes
        #expect(motion.update(picture(blockAt: nil)).isEmpty)
        let boxes = motion.update(picture(blockAt: 20))
        #expect(boxes.count == 1)
        #expect(boxes[0].x0 <= 20 && boxes[0].x1 >= 26 && boxes[0].y0 <= 8 && boxes[0].y1 >= 13)
        #expect(boxes[0].width < 12)
    }

    @Test func nearRegionsMergeAndFarOnesStayApart() {
        let regions = MotionDetector.regions(
            [Box(x0: 10, y0: 10, x1: 30, y1: 20), Box(x0: 35, y0: 10, x1: 50, y1: 20), Box(x0: 400, y0: 100, x1: 420, y1: 120)], minimumSide: 64,
            pictureWidth: 640, pictureHeight: 360)
        #expect(regions.count == 2)
        #expect(regions.allSatisfy { $0.width >= 63 && $0.height >= 63 })
    }

    @Test func aRegionIsDetectedAtAboutItsOwnSizeNotEnlargedToOneSquare() {
        // A 128-pixel square region: its own size at scale 1, twice at scale 2, never past the largest side.
        #expect(ObjectDetector.regionInput(width: 128, height: 128, side: 256, scale: 1) == (128, 128))
        #expect(ObjectDetector.regionInput(width: 128, height: 128, side: 256, scale: 2) == (256, 256))
        // A wide region keeps its proportions (the letterbox pads less than a square would).
        #expect(ObjectDetector.regionInput(width: 300, height: 130, side: 256, scale: 1) == (256, 128))
        // The whole 640x360 picture as one region: shrunk to the largest side, proportions kept.
        #expect(ObjectDetector.regionInput(width: 640, height: 360, side: 256, scale: 1) == (256, 160))
        // A sliver: at least 64 on a side; sides are multiples of 32.
        let sliver = ObjectDetector.regionInput(width: 20, height: 150, side: 256, scale: 1)
        #expect(sliver == (64, 160))
        for (w, h) in [(97.0, 131.0), (255.0, 33.0), (1000.0, 1000.0)] {
            let input = ObjectDetector.regionInput(width: w, height: h, side: 256, scale: 1.5)
            #expect(input.width % 32 == 0 && input.height % 32 == 0 && (64...256).contains(input.width) && (64...256).contains(input.height))
        }
    }
}

@Suite struct TrackerTests {
    func car(_ x: Double, _ y: Double = 100) -> Detection { Detection(box: Box(x0: x, y0: y, x1: x + 80, y1: y + 30), objectClass: .car, confidence: 0.8) }

    @Test func twoCarsCrossingInOppositeLanesAreTwoPassagesWithTheirDirections() {
        var tracker = Tracker()
        var ended: [Tracker.Track] = []
        for step in 0..<20 {
            let t = Double(step) * 0.4
            ended += tracker.update(time: t, detections: [car(Double(step) * 30), car(600 - Double(step) * 30, 160)]).ended
        }
        ended += tracker.finish()
        #expect(ended.count == 2)
        #expect(Set(ended.map { Direction.of($0) }) == [.leftToRight, .rightToLeft])
    }

    @Test func aFastCarWhoseBoxIsSometimesOnlyItsBodyIsOnePassage() {
        // 225 px a second, nearly three 80 px lengths a second: 90 px between two detections
        // 0.4 s apart, more than its length; every other box only its body (half long, half high).
        var tracker = Tracker()
        var ended: [Tracker.Track] = []
        for step in 0..<10 {
            let x = Double(step) * 90
            let box = step % 2 == 0 ? Box(x0: x, y0: 100, x1: x + 80, y1: 130) : Box(x0: x + 20, y0: 110, x1: x + 60, y1: 126)
            ended += tracker.update(time: Double(step) * 0.4, detections: [Detection(box: box, objectClass: .car, confidence: 0.6)]).ended
        }
        ended += tracker.finish()
        #expect(ended.count == 1, "\(ended.map(\.hits))")
        #expect(ended.first?.hits == 10)
    }

    @Test func aCarSeenOnceLeavingIsNotTheOneComingInOnTheOtherSideLater() {
        // Seen once at the right edge as it leaves; 10 s later a car of the same look comes in
        // on the left, in the same lane: two things, not one passage driving backwards.
        var tracker = Tracker()
        var ended: [Tracker.Track] = []
        ended += tracker.update(time: 0, detections: [car(560)]).ended
        for step in 0..<6 { ended += tracker.update(time: 10 + Double(step) * 0.4, detections: [car(Double(step) * 30)]).ended }
        ended += tracker.finish()
        #expect(ended.count == 1 && ended.first?.hits == 6, "\(ended.map(\.hits))")
        #expect(ended.first.map { Direction.of($0) } == .leftToRight)
    }

    @Test func twoCarsInOneLaneAfterEachOtherAndOneInTheOtherLaneStayApart() {
        // Two cars 200 px apart in the near lane, one in the far lane (40 px higher) going the
        // same way at the same place as the first: three passages, never a box of one in another's.
        var tracker = Tracker()
        var byTrack: [Int: Set<String>] = [:]
        for step in 0..<12 {
            let t = Double(step) * 0.4, x = Double(step) * 40
            let seen = [("first", car(x, 140)), ("second", car(x - 200, 140)), ("far", car(x + 10, 100))].filter { $0.1.box.x0 >= 0 }
            let (assigned, _) = tracker.update(time: t, detections: seen.map(\.1))
            for (index, id) in assigned.enumerated() { byTrack[id, default: []].insert(seen[index].0) }
        }
        #expect(byTrack.values.allSatisfy { $0.count == 1 }, "\(byTrack)")
        #expect(Set(byTrack.values.flatMap { $0 }) == ["first", "second", "far"])
    }

    @Test func aFewMissedPicturesDoNotSplitAPassage() {
        var tracker = Tracker()
        var ended: [Tracker.Track] = []
        for step in 0..<20 where step % 5 != 3 {  // one picture in five missed
            ended += tracker.update(time: Double(step) * 0.4, detections: [car(Double(step) * 25)]).ended
        }
        ended += tracker.finish()
        #expect(ended.count == 1)
        #expect(ended[0].hits == 16)
    }

    @Test func aParkedCarSeenEveryTenSecondsIsOneStandingPassage() {
        var tracker = Tracker()
        var ended: [Tracker.Track] = []
        for step in 0..<10 { ended += tracker.update(time: Double(step) * 10, detections: [car(200)]).ended }
        ended += tracker.update(time: 95, detections: []).ended
        ended += tracker.finish()
        #expect(ended.count == 1)
        #expect(Direction.of(ended[0]) == .standing)
        #expect(ended[0].last.time - ended[0].first.time == 90)
    }

    func look(_ hue: Int) -> [Float] {
        var d = [Float](repeating: 0, count: Appearance.length)
        d[hue] = 1
        d[Appearance.length - 1] = 0.4
        return d
    }

    @Test func aCarDrivingPastAParkedOneOfAnotherColourIsNotJoinedToIt() {
        var tracker = Tracker()
        var ended: [Tracker.Track] = []
        // A blue car parked at x = 200, seen every 10 s by the look at the whole picture; a
        // red car drives over its place in the same lane at 8 s.
        for step in 0..<30 {
            let t = Double(step) * 0.4
            var seen: [Detection] = []
            if step % 25 == 0 { seen.append(Detection(box: car(200).box, objectClass: .car, confidence: 0.8, descriptor: look(16))) }
            if step >= 10 { seen.append(Detection(box: car(Double(step - 10) * 30).box, objectClass: .car, confidence: 0.8, descriptor: look(0))) }
            ended += tracker.update(time: t, detections: seen).ended
        }
        ended += tracker.finish()
        #expect(ended.count == 2)
        let parked = ended.first { Direction.of($0) == .standing }
        #expect(parked?.hits == 2)
        #expect(ended.contains { Direction.of($0) == .leftToRight && $0.hits == 20 })
    }

    @Test func aCarOfAnotherLookAtTheSamePlaceSoonAfterIsAnotherPassage() {
        var tracker = Tracker()
        var ended: [Tracker.Track] = []
        // Seen once (a first detection), then another car where it was half a second later.
        _ = tracker.update(time: 0, detections: [Detection(box: car(100).box, objectClass: .car, confidence: 0.8, descriptor: look(0))])
        for step in 1..<10 {
            ended += tracker.update(time: 0.5 + Double(step) * 0.4, detections: [Detection(box: car(100 + Double(step) * 30).box, objectClass: .car, confidence: 0.8, descriptor: look(40))]).ended
        }
        ended += tracker.finish()
        #expect(ended.count == 1)  // the first, seen once, is noise; the second is one passage
        #expect(ended.first?.hits == 9)
        // The same with one look: one passage from the first picture.
        var same = Tracker()
        _ = same.update(time: 0, detections: [Detection(box: car(100).box, objectClass: .car, confidence: 0.8, descriptor: look(0))])
        for step in 1..<10 {
            _ = same.update(time: 0.5 + Double(step) * 0.4, detections: [Detection(box: car(100 + Double(step) * 30).box, objectClass: .car, confidence: 0.8, descriptor: look(0))])
        }
        #expect(same.finish().map(\.hits) == [10])
    }

    @Test func aPassageSeenOnceIsNoiseAndALongGapEndsAMovingOne() {
        var tracker = Tracker()
        #expect(tracker.update(time: 0, detections: [car(0)]).ended.isEmpty)
        _ = tracker.update(time: 0.4, detections: [car(30)])
        let ended = tracker.update(time: 3, detections: []).ended
        #expect(ended.count == 1)
        var noise = Tracker()
        _ = noise.update(time: 0, detections: [car(0)])
        #expect(noise.update(time: 5, detections: []).ended.isEmpty)
        #expect(noise.update(time: 13, detections: []).ended.isEmpty)  // waited for, then dropped
        #expect(noise.tracks.isEmpty)
    }
}

@Suite struct FollowingTests {
    // a - b - c, and d alone.
    let following = Following(graph: ["a": ["b"], "b": ["a", "c"], "c": ["b"], "d": []], travel: 5...60)
    let red: [Float] = { var d = [Float](repeating: 0, count: Appearance.length); d[0] = 1; d[Appearance.length - 1] = 0.6; return d }()
    let blue: [Float] = { var d = [Float](repeating: 0, count: Appearance.length); d[16] = 1; d[Appearance.length - 1] = 0.6; return d }()

    func passage(_ id: Int64, _ camera: String, _ start: Double, _ look: [Float]) -> Passage {
        Passage(
            id: id, requisition: "R", camera: camera, segmentID: 1, start: Date(timeIntervalSince1970: start), end: Date(timeIntervalSince1970: start + 4),
            objectClass: "car", confidence: 0.9, colours: [], direction: "left-to-right", box: [0, 0, 0.1, 0.1], descriptor: look)
    }

    @Test func streetsAreCountedOnTheNeighbourGraph() {
        #expect(following.streets(from: "a", to: "c") == 2)
        #expect(following.streets(from: "a", to: "d") == nil)
    }

    @Test func aLookAlikeSeenTooSoonToHaveDrivenThereIsNotTheCar() {
        let query = passage(1, "a", 1000, red)
        // At c (two streets: at least 10 s) only 3 s after leaving a: impossible. At b 20 s later: it.
        let impossible = passage(2, "c", 1007, red), it = passage(3, "b", 1024, red), other = passage(4, "b", 1020, blue)
        let ranked = following.rank(query, among: [query, impossible, it, other, passage(5, "d", 1100, red)])
        #expect(ranked.first?.passage.id == 3)
        #expect(!ranked.contains { $0.passage.id == 2 || $0.passage.id == 5 })
        #expect(ranked.contains { $0.passage.id == 4 } == true)
        #expect(ranked.first { $0.passage.id == 4 }!.score < ranked[0].score)
    }

    @Test func piecesOfOnePassageAreOneResultAndTheRouteComesFirst() {
        let query = passage(1, "a", 1000, red)
        // At b: one car seen in two pieces (a track cut by an occlusion), and a blue car then.
        let piece1 = passage(2, "b", 1020, red), piece2 = passage(3, "b", 1025, red), blue = passage(4, "b", 1022, self.blue)
        // At c, much later, a red car as alike as the one at b.
        let late = passage(5, "c", 1100, red)
        let (ranked, route) = following.follow(query, among: [query, piece1, piece2, blue, late])
        let ids: [Int64] = ranked.map { $0.passage.id }
        let pieces = ids.filter { $0 == 2 || $0 == 3 }
        #expect(pieces.count == 1)
        #expect(ranked.contains { $0.passage.id == 4 })  // another look at the same time is another object
        // The route: a, one piece at b, then c; its steps lead the ranking, nearest in time first.
        let steps: [Int64] = route.map { $0.id }
        #expect(steps.count == 3 && steps.first == 1 && steps.last == 5)
        #expect(Array(ids.prefix(2)) == Array(steps.dropFirst()))
    }

    @Test func theRouteChainsNeighboursInTimeBothWays() {
        let start = passage(10, "b", 2000, red)
        let before = passage(11, "a", 1970, red), after = passage(12, "c", 2030, red), decoy = passage(13, "c", 2025, blue)
        let route = following.route(from: start, among: [start, before, after, decoy])
        #expect(route.map(\.id) == [11, 10, 12])
    }
}
