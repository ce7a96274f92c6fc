import ArgumentParser
import Foundation
import Media
import RecorderCore
import Synchronization

/// A live text view of the feeds: state, rates, and a strip of each camera's decoded
/// picture in coloured half blocks. What `make demo` runs until the wall exists.
struct Monitor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Live text view of the cameras' feeds: state, frame rate, bit rate, last frame, a strip of picture.",
        discussion: "Ctrl-C quits. Each camera's stream is received and decoded at strip size; states show reconnections as they happen."
    )

    @OptionGroup var siteOptions: SiteOptions

    @Option(help: "Only cameras whose id matches this pattern (* and ?).")
    var cameras: String = "*"

    @Option(help: "At most this many cameras (the first ones of the inventory).")
    var limit: Int = 16

    @Option(help: "Stream to watch: sub or main.")
    var stream: String = "sub"

    @Option(help: "Quit after this many seconds (default: run until Ctrl-C).")
    var duration: Double?

    @Flag(help: "Plain text, no colours and no screen clearing (for logs and pipes).")
    var plain = false

    func validate() throws {
        if StreamChoice(rawValue: stream) == nil { throw ValidationError("--stream is main or sub") }
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let interactive = !plain && isatty(STDOUT_FILENO) != 0
        if interactive { LogSetup.toMemory(level: siteOptions.level) } else { LogSetup.toStandardError(level: siteOptions.level) }
        let inventory = try SiteLocator.load(siteOptions.site)
        try refuseLiveInVideoprotection(inventory, command: "vigie monitor")
        let selected = Array(inventory.cameras(matching: cameras).prefix(limit))
        if selected.isEmpty {
            printError("vigie monitor: no camera matches `\(cameras)` in \(inventory.file)")
            throw ExitCode(64)
        }
        let (core, simulation) = SiteSources.core(inventory)
        let choice = StreamChoice(rawValue: stream)!
        let stripWidth = 24
        var subscriptions: [String: FrameSubscription] = [:]
        for camera in selected {
            subscriptions[camera.id] = core.feed(camera: camera.id, stream: choice)?.subscribeFrames(width: stripWidth, height: 2)
        }

        let stop = SignalFlag.install()
        let start = Date()
        let clock = DateFormatter()
        clock.timeZone = inventory.site.timeZone
        clock.dateFormat = "yyyy-MM-dd HH:mm:ss"
        if interactive { writeOut("\u{1B}[?25l\u{1B}[2J") }
        defer {
            if interactive { writeOut("\u{1B}[?25h\n") }
            for subscription in subscriptions.values { subscription.cancel() }
            core.shutdown()
        }
        var cpuMark = (processCPUSeconds(), Date())
        while !stop.isSet {
            if let duration, Date().timeIntervalSince(start) >= duration { break }
            let now = Date()
            let statuses = Dictionary(core.statuses().map { ($0.cameraID, $0) }, uniquingKeysWith: { first, _ in first })
            let cpu = processCPUSeconds()
            let cpuPercent = (cpu - cpuMark.0) / max(0.001, now.timeIntervalSince(cpuMark.1)) * 100
            cpuMark = (cpu, now)
            var lines: [String] = []
            let live = statuses.values.filter { $0.state.isLive }.count
            lines.append(TerminalText.escaped(
                "Vigie \(Vigie.version) — \(inventory.site.name) — \(clock.string(from: now)) — \(live)/\(selected.count) live (\(stream) streams) — CPU \(Int(cpuPercent)) %"))
            lines.append(
                "  #  \("camera".padded(24)) \("state".padded(13)) \("codec".padded(14)) \("rx fps".leftPadded(6)) \("dec fps".leftPadded(7)) \("kbit/s".leftPadded(7)) \("last".leftPadded(6))  picture")
            for camera in selected {
                let status = statuses[camera.id]
                let state = status?.state ?? .stopped
                var stateText = state.word
                if let lost = state.lostSince { stateText += " \(Int(now.timeIntervalSince(lost)))s" }
                let codec = status.flatMap { s in s.codec.map { "\($0) \(s.width ?? 0)x\(s.height ?? 0)" } } ?? "-"
                let last = status?.lastPacketAt.map { String(format: "%.1fs", now.timeIntervalSince($0)) } ?? "-"
                let strip = subscriptions[camera.id]?.latest().map { renderStrip($0.image, colour: interactive) } ?? ""
                // The text escaped (it names what a camera's server sent); the strip is our own drawing.
                let text = TerminalText.escaped(
                    "\(String(camera.number).leftPadded(3))  \(camera.id.truncated(24).padded(24)) \(stateText.truncated(13).padded(13)) \(codec.truncated(14).padded(14)) \(String(format: "%6.1f", status?.receivedFramesPerSecond ?? 0)) \(String(format: "%7.1f", status?.decodedFramesPerSecond ?? 0)) \(String(format: "%7.0f", (status?.bitsPerSecond ?? 0) / 1000)) \(last.leftPadded(6))  ")
                lines.append(text + strip)
            }
            if interactive {
                lines.append("")
                lines.append(
                    simulation == nil
                        ? "Ctrl-C quits."
                        : "Ctrl-C quits. First run: simulated footage is built camera by camera (about 2 s each), then cached.")
                for line in LogSetup.recent.snapshot { lines.append(TerminalText.escaped("  \(line.truncated(150))")) }
                writeOut("\u{1B}[H" + lines.map { $0 + "\u{1B}[K" }.joined(separator: "\n") + "\u{1B}[J")
            } else {
                writeOut(lines.joined(separator: "\n") + "\n\n")
            }
            stop.wait(seconds: 1)
        }
    }

    /// One text row of the picture: each cell an upper half block, top pixel as foreground,
    /// bottom pixel as background (truecolor), or luminance characters without colour.
    func renderStrip(_ image: RGBImage, colour: Bool) -> String {
        var text = ""
        for x in 0..<image.width {
            let top = image.pixel(x: x, y: 0)
            let bottom = image.pixel(x: x, y: min(1, image.height - 1))
            if colour {
                text += "\u{1B}[38;2;\(top.r);\(top.g);\(top.b)m\u{1B}[48;2;\(bottom.r);\(bottom.g);\(bottom.b)m▀"
            } else {
                let luma = (Int(top.r) * 2 + Int(top.g) * 5 + Int(top.b) + Int(bottom.r) * 2 + Int(bottom.g) * 5 + Int(bottom.b)) / 16
                text += String(Array(" .:-=+*#%@")[min(9, luma * 10 / 256)])
            }
        }
        return colour ? text + "\u{1B}[0m" : text
    }
}

/// Set by SIGINT or SIGTERM; lets the main loop end cleanly (terminal restored, feeds stopped).
final class SignalFlag {
    private let semaphore = DispatchSemaphore(value: 0)
    private let flag = AtomicFlag()
    private var sources: [any DispatchSourceSignal] = []

    static func install() -> SignalFlag {
        let result = SignalFlag()
        let semaphore = result.semaphore, flag = result.flag
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                flag.set()
                semaphore.signal()
            }
            source.resume()
            result.sources.append(source)
        }
        return result
    }

    var isSet: Bool { flag.isSet }

    func wait(seconds: Double) { _ = semaphore.wait(timeout: .now() + seconds) }
}

final class AtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// Writes to standard output at once, unbuffered.
func writeOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
