import ArgumentParser
import Foundation
import Media
import RecorderCore

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a stream: codec, size, frame rate, bit rate, keyframe interval, transport.",
        discussion: "SOURCE is an address (rtsp://, http(s)://, file, sim://) or a camera id or number of the inventory."
    )

    @Argument(help: "Address, file, or camera id/number.")
    var source: String

    @OptionGroup var siteOptions: SiteOptions

    @Option(help: "Which stream of a camera given by id: main or sub.")
    var stream: String = "main"

    @Option(help: "RTSP transport: tcp or udp (default: the camera's, else tcp).")
    var transport: String?

    @Option(help: "Seconds allowed to connect.")
    var timeout: Double = 10

    @Option(help: "Seconds of stream to measure (bit rate, keyframe interval).")
    var duration: Double = 4

    func validate() throws {
        if let transport, RTSPTransport(rawValue: transport) == nil { throw ValidationError("--transport is tcp or udp") }
        if StreamChoice(rawValue: stream) == nil { throw ValidationError("--stream is main or sub") }
        if timeout <= 0 || duration <= 0 { throw ValidationError("--timeout and --duration must be positive") }
    }

    func run() throws {
        LogSetup.toStandardError(level: siteOptions.level)
        let began = Date()
        if source.contains("://"), !source.hasPrefix("sim://"), let problem = CameraURL.problem(with: source) {
            printError("vigie probe: \(problem)")
            throw ExitCode(64)
        }
        let (packetSource, interrupt, url) = try OpenedSource.open(
            source, site: siteOptions.site, stream: stream, transport: transport.flatMap(RTSPTransport.init(rawValue:)),
            timeout: timeout)
        // The whole probe takes its timeout and its measure, plus a second, whatever the
        // source does (a server that answers and then sends nothing, or too slowly).
        let deadline = DispatchWorkItem { interrupt.cancel() }
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0.5, timeout + duration + 1 - Date().timeIntervalSince(began)), execute: deadline)
        defer { deadline.cancel() }
        let video = packetSource.video
        let parameters = video.parameters
        var measurement = StreamMeasurement(timeBase: video.timeBase)
        var decoder: Decoder? = nil
        var decodedSize: (Int, Int)? = nil
        var decodeError: MediaError? = nil
        let wallStart = Date()
        do {
            while let packet = try packetSource.read() {
                measurement.add(packet)
                if decodedSize == nil && decodeError == nil && (decoder != nil || packet.isKeyframe) {
                    do {
                        if decoder == nil { decoder = try Decoder(parameters: parameters, timeBase: video.timeBase) }
                        try decoder!.send(packet)
                        if let frame = try decoder!.receive() { decodedSize = (frame.width, frame.height) }
                    } catch {
                        decodeError = error
                    }
                }
                if measurement.span >= duration || Date().timeIntervalSince(wallStart) >= duration + timeout { break }
            }
        } catch {
            if measurement.packets == 0 {
                let why = error.kind == .cancelled ? "nothing within \(Int(timeout + duration)) s" : error.message
                printError("vigie probe: \(Redaction.redactAddress(url)): no video arrived: \(why)")
                throw OpenedSource.exitCode(error, url: url)
            }
        }
        if let decoder, decodedSize == nil, decodeError == nil {
            _ = try? decoder.send(nil)
            if let frame = try? decoder.receive() { decodedSize = (frame.width, frame.height) }
        }

        print("source      \(Redaction.redactAddress(url))")
        print("transport   \(packetSource.transport)")
        if let demuxed = packetSource as? DemuxerSource { print("container   \(demuxed.demuxer.formatName)") }
        let profile = parameters.profileName.map { " (\($0))" } ?? ""
        print("codec       \(parameters.codecName)\(profile), \(parameters.pixelFormatName ?? "unknown pixel format")")
        print("size        \(parameters.width)x\(parameters.height)")
        let declared = video.framesPerSecond.map { String(format: "%.2f fps declared", $0) } ?? "no rate declared"
        let measured = measurement.framesPerSecond.map { String(format: ", %.2f fps measured", $0) } ?? ""
        print("frame rate  \(declared)\(measured)")
        if let bitRate = measurement.bitsPerSecond {
            print(String(format: "bit rate    %.0f kbit/s over %.1f s of stream", bitRate / 1000, measurement.span))
        }
        if let interval = measurement.keyframeInterval {
            print(String(format: "keyframes   every %.0f frames (%.2f s)", interval.frames, interval.seconds))
        } else {
            print("keyframes   \(measurement.keyframes) in \(measurement.pictures) frames (interval longer than the measure)")
        }
        if let (width, height) = decodedSize {
            print("decoding    ok (\(width)x\(height))")
        } else {
            printError("vigie probe: \(Redaction.redactAddress(url)): cannot decode: \(decodeError?.message ?? "no picture came out of the decoder")")
            throw ExitCode(65)
        }
        interrupt.cancel()
    }
}

/// Measures a stream from its packets: rate, bit rate, keyframe interval (by timestamps).
struct StreamMeasurement {
    let timeBase: Rational
    var packets = 0
    var bytes = 0
    var keyframes = 0
    var firstTime: Double?
    var lastTime: Double?
    var keyframeTimes: [Double] = []
    var keyframePacketIndices: [Int] = []
    /// Pictures, counted by distinct timestamps: some servers send parameter sets as
    /// packets of their own with the picture's timestamp.
    var pictures = 0
    private var seenTimes = Set<Double>()

    init(timeBase: Rational) { self.timeBase = timeBase }

    mutating func add(_ packet: Packet) {
        packets += 1
        bytes += packet.size
        guard let time = (packet.pts ?? packet.dts).map({ packet.timeBase.seconds($0) }) else { return }
        if seenTimes.insert(time).inserted { pictures += 1 }
        firstTime = min(firstTime ?? time, time)
        lastTime = max(lastTime ?? time, time)
        if packet.isKeyframe {
            keyframes += 1
            keyframeTimes.append(time)
            keyframePacketIndices.append(pictures - 1)
        }
    }

    var span: Double { (lastTime ?? 0) - (firstTime ?? 0) }

    var framesPerSecond: Double? { span > 0 && pictures > 1 ? Double(pictures - 1) / span : nil }

    var bitsPerSecond: Double? { span > 0 && pictures > 1 ? Double(bytes * 8) * Double(pictures - 1) / Double(pictures) / span : nil }

    var keyframeInterval: (frames: Double, seconds: Double)? {
        guard keyframeTimes.count >= 2 else { return nil }
        let count = Double(keyframeTimes.count - 1)
        return (
            Double(keyframePacketIndices.last! - keyframePacketIndices.first!) / count,
            (keyframeTimes.last! - keyframeTimes.first!) / count
        )
    }
}
