public import Foundation
public import Media
public import RecorderCore

/// Time spent in each stage of the analysis, in seconds of CPU on its thread.
public struct StageTimes: Sendable, Hashable, Codable {
    public var decode = 0.0
    public var scale = 0.0
    public var motion = 0.0
    public var detection = 0.0
    public var tracking = 0.0
    public var attributes = 0.0
    public var pictures = 0
    public var analysed = 0
    public var inferences = 0
    public var footageSeconds = 0.0

    public init() {}

    public var total: Double { decode + scale + motion + detection + tracking + attributes }

    public static func + (a: StageTimes, b: StageTimes) -> StageTimes {
        var c = a
        c.decode += b.decode; c.scale += b.scale; c.motion += b.motion; c.detection += b.detection
        c.tracking += b.tracking; c.attributes += b.attributes; c.pictures += b.pictures; c.analysed += b.analysed
        c.inferences += b.inferences; c.footageSeconds += b.footageSeconds
        return c
    }
}

/// The settings of the pipeline (the defaults are what the benchmarks measured).
public struct AnalysisSettings: Sendable {
    /// Width of the analysed pictures (height keeps the camera's proportions).
    public var width = 640
    /// Pictures analysed per second of footage (the decoder reads them all: H.264).
    public var rate = 5.0
    /// Detections per second where something moves.
    public var detectionRate = 2.5
    /// Seconds between two looks at the whole picture (standing vehicles).
    public var wholePictureEvery = 10.0
    /// Motion cells, in analysed pixels.
    public var cell = 8
    /// Analyse each camera's sub stream where it was recorded (faster, poorer), else its main stream.
    public var preferSubStream = false
    /// How much a region where something moves may be enlarged for the detector: 1, each
    /// region at its own size (measured on the simulated city, sub streams, 240 s: 31.7
    /// camera-hours per CPU-hour against 19.3 enlarged twice, red cars as well found).
    public var regionScale = 1.0
    public init() {}
}

/// Analyses one camera's segments in time order: decode at reduced size and rate, motion
/// on a background model, detection where something moves (and over the whole picture
/// now and then), tracking, then per track its class, colours, direction, times, best
/// crop and appearance. Used by one thread.
public final class CameraAnalysis {
    public let camera: String
    public let requisition: String
    private let detector: ObjectDetector
    private let settings: AnalysisSettings
    private var tracker = Tracker()
    private var motion: MotionDetector?
    private var scaler: Scaler?
    private var lastAnalysed = -Double.infinity
    private var lastDetection = -Double.infinity
    private var lastWhole = -Double.infinity
    private var lastTime = -Double.infinity
    public private(set) var times = StageTimes()

    /// What the analysis keeps of a track while it lasts.
    private struct Evidence {
        var segmentID: Int64
        var votes: [ColourName: Int] = [:]
        var descriptors: [[Float]] = []
        var bestArea = 0.0
        var bestBox = Box(x0: 0, y0: 0, x1: 0, y1: 0)
        var thumbnail: [UInt8]? = nil
    }
    private var evidence: [Int: Evidence] = [:]
    private var pictureSize = (width: 640, height: 360)

    public init(camera: String, requisition: String, detector: ObjectDetector, settings: AnalysisSettings = AnalysisSettings()) {
        self.camera = camera
        self.requisition = requisition
        self.detector = detector
        self.settings = settings
        inferencesBefore = detector.inferences
    }

    /// The detector's count when this camera began (a thread's detector serves its cameras in turn).
    private let inferencesBefore: Int

    private static func clock() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Analyses one segment file, keeping only pictures within `window`; returns the
    /// passages that ended in it. `stop` is polled between pictures.
    public func analyse(segment: SegmentRecord, file: URL, window: ClosedRange<Date>, stop: () -> Bool) throws(MediaError) -> [(Passage, [UInt8]?)] {
        let demuxer = try Demuxer(url: file.path, options: SegmentScan.demuxerOptions)
        guard let video = demuxer.videoStream else { return [] }
        let decoder = try Decoder(parameters: video.parameters, timeBase: video.timeBase, threads: 1, forPreview: true)
        let origin = segment.start.timeIntervalSince1970 - (demuxer.startTime ?? 0)
        var ended: [(Passage, [UInt8]?)] = []
        let from = window.lowerBound.timeIntervalSince1970, to = window.upperBound.timeIntervalSince1970
        var t0 = CameraAnalysis.clock()
        func lap(_ field: WritableKeyPath<StageTimes, Double>) {
            let now = CameraAnalysis.clock()
            times[keyPath: field] += now - t0
            t0 = now
        }
        var firstPicture: Double? = nil, lastPicture = 0.0
        func handle(_ frame: Frame) throws(MediaError) {
            times.pictures += 1
            guard let pts = frame.pts, let base = frame.timeBase.doubleValue else { return }
            let time = origin + Double(pts) * base
            guard time >= from, time <= to else { return }
            if firstPicture == nil { firstPicture = time }
            lastPicture = time
            if time < lastTime - 1 { reset() }  // footage going back: a new run of pictures
            lastTime = time
            guard time - lastAnalysed >= 1 / settings.rate - 0.004 else { return }
            lastAnalysed = time
            ended += try analyse(frame: frame, at: time, segment: segment, lap: lap)
        }
        while let packet = try demuxer.read() {
            if stop() { break }
            guard packet.streamIndex == video.index else { continue }
            try decoder.send(packet)
            lap(\.decode)
            while let frame = try decoder.receive() {
                lap(\.decode)
                try handle(frame)
            }
        }
        try decoder.send(nil)
        while let frame = try decoder.receive() { try handle(frame) }
        lap(\.decode)
        if let firstPicture { times.footageSeconds += max(0, lastPicture - firstPicture) + 1 / max(1, video.framesPerSecond ?? 25) }
        return ended
    }

    /// Ends the tracks still open (the end of the requisition's footage for this camera).
    public func finish() -> [(Passage, [UInt8]?)] {
        tracker.finish().compactMap(passage)
    }

    private func reset() {
        motion?.reset()
        lastAnalysed = -.infinity
        lastDetection = -.infinity
        lastWhole = -.infinity
    }

    private func analyse(frame: Frame, at time: Double, segment: SegmentRecord, lap: (WritableKeyPath<StageTimes, Double>) -> Void) throws(MediaError)
        -> [(Passage, [UInt8]?)]
    {
        times.analysed += 1
        if scaler == nil {
            let height = max(2, Int((Double(settings.width) * Double(frame.height) / Double(max(1, frame.width)) / 2).rounded()) * 2)
            scaler = try Scaler(outputWidth: settings.width, outputHeight: height)
            pictureSize = (settings.width, height)
            motion = MotionDetector(width: settings.width / settings.cell, height: height / settings.cell)
        }
        let image = try scaler!.scale(frame)
        lap(\.scale)
        // Motion on the mean of each cell.
        let cell = settings.cell
        let gw = image.width / cell, gh = image.height / cell
        var grey = [Float](repeating: 0, count: gw * gh)
        image.pixels.withUnsafeBufferPointer { p in
            for gy in 0..<gh {
                for gx in 0..<gw {
                    var sum = 0
                    var y = gy * cell
                    while y < (gy + 1) * cell {
                        var x = gx * cell
                        while x < (gx + 1) * cell {
                            let o = (y * image.width + x) * 3
                            sum += Int(p[o]) * 2 + Int(p[o + 1]) * 5 + Int(p[o + 2])
                            x += 2
                        }
                        y += 2
                    }
                    grey[gy * gw + gx] = Float(sum) / Float(8 * (cell / 2) * (cell / 2))
                }
            }
        }
        let moving = motion!.update(grey).map {
            Box(x0: $0.x0 * Double(cell), y0: $0.y0 * Double(cell), x1: $0.x1 * Double(cell), y1: $0.y1 * Double(cell))
        }
        lap(\.motion)
        var detections: [Detection]? = nil
        do {
            if time - lastWhole >= settings.wholePictureEvery {
                lastWhole = time
                lastDetection = time
                detections = try detector.detect(image)
            } else if !moving.isEmpty && time - lastDetection >= 1 / settings.detectionRate - 0.004 {
                lastDetection = time
                var found: [Detection] = []
                let regions = MotionDetector.regions(moving, minimumSide: 128, pictureWidth: Double(image.width), pictureHeight: Double(image.height))
                if regions.count > 3 || regions.reduce(0, { $0 + $1.area }) > 0.6 * Double(image.width * image.height) {
                    found = try detector.detect(image)
                } else {
                    for region in regions { found += try detector.detect(image, in: region) }
                }
                detections = YOLODecoder.suppress(found, overlap: 0.45)
            } else if moving.isEmpty && tracker.tracks.contains(where: { !$0.isStanding }) {
                detections = []  // nothing moves: moving tracks may end
            }
        } catch {
            throw MediaError(kind: .ffmpeg, operation: "detect", source: camera, message: error.description)
        }
        lap(\.detection)
        times.inferences = detector.inferences - inferencesBefore
        guard var detections else { return [] }
        let light = detections.isEmpty ? nil : SceneLight(of: image)
        if let light {
            for index in detections.indices { detections[index].descriptor = Appearance.descriptor(in: image, box: detections[index].box, light: light, objectClass: detections[index].objectClass) }
        }
        lap(\.attributes)
        let (assigned, ended) = tracker.update(time: time, detections: detections)
        lap(\.tracking)
        if let light {
            for (index, detection) in detections.enumerated() {
                let id = assigned[index]
                var kept = evidence[id] ?? Evidence(segmentID: segment.id)
                for (name, count) in ColourNaming.votes(in: image, box: detection.box, objectClass: detection.objectClass, light: light) {
                    kept.votes[name, default: 0] += count
                }
                if kept.descriptors.count < 12, let descriptor = detection.descriptor { kept.descriptors.append(descriptor) }
                // The best crop: the largest box that the picture's edges do not cut.
                let inside = detection.box.x0 > 2 && detection.box.x1 < Double(image.width - 2)
                let area = detection.box.area * (inside ? 1 : 0.3)
                if area > kept.bestArea {
                    kept.bestArea = area
                    kept.bestBox = detection.box
                    kept.thumbnail = CameraAnalysis.thumbnail(image, detection.box)
                }
                evidence[id] = kept
            }
        }
        lap(\.attributes)
        return ended.compactMap(passage)
    }

    private func passage(_ track: Tracker.Track) -> (Passage, [UInt8]?)? {
        guard let kept = evidence.removeValue(forKey: track.id) else { return nil }
        let colours = ColourNaming.ranked(kept.votes).map { Passage.NamedShare(name: $0.name.rawValue, share: ($0.confidence * 1000).rounded() / 1000) }
        let w = Double(pictureSize.width), h = Double(pictureSize.height)
        let passage = Passage(
            requisition: requisition, camera: camera, segmentID: kept.segmentID, start: Date(timeIntervalSince1970: track.first.time),
            end: Date(timeIntervalSince1970: track.last.time), objectClass: track.objectClass.rawValue, confidence: (track.bestConfidence * 1000).rounded() / 1000,
            colours: colours, direction: Direction.of(track).rawValue,
            box: [kept.bestBox.x0 / w, kept.bestBox.y0 / h, kept.bestBox.x1 / w, kept.bestBox.y1 / h], descriptor: Appearance.mean(kept.descriptors))
        return (passage, kept.thumbnail)
    }

    /// The crop as a binary PPM, at most 64 pixels wide and 48 high.
    static func thumbnail(_ image: RGBImage, _ box: Box) -> [UInt8] {
        let b = box.expanded(by: 0.05).clamped(width: Double(image.width), height: Double(image.height))
        let scale = min(64 / max(1, b.width), 48 / max(1, b.height), 1)
        let w = max(1, Int(b.width * scale)), h = max(1, Int(b.height * scale))
        var out = Array("P6\n\(w) \(h)\n255\n".utf8)
        out.reserveCapacity(out.count + w * h * 3)
        for y in 0..<h {
            let sy = min(image.height - 1, Int(b.y0 + (Double(y) + 0.5) / scale))
            for x in 0..<w {
                let sx = min(image.width - 1, Int(b.x0 + (Double(x) + 0.5) / scale))
                let o = (sy * image.width + sx) * 3
                out += [image.pixels[o], image.pixels[o + 1], image.pixels[o + 2]]
            }
        }
        return out
    }
}
