import Crypto
import Foundation

/// What an MPEG-TS segment holds, read straight from its bytes: 188-byte packets, the PES
/// headers of its video stream (timestamps), and the random-access flag FFmpeg's muxer sets
/// on keyframes. No demuxer: a quick look reads only the head and the tail of a file, so a
/// lost catalog of a day of 110 cameras is indexed again in seconds; the full read hashes the
/// file in the same pass.
public struct TransportStreamScan: Sendable {
    /// 90 kHz timestamps of the first and last video pictures (the lowest and the highest seen).
    public var firstPTS: Int64?
    public var lastPTS: Int64?
    /// One picture's length in 90 kHz ticks (the commonest step between pictures).
    public var frameTicks: Int64 = 0
    /// Pictures (video PES packets) seen.
    public var pictures = 0
    /// Keyframes: offset in seconds from the first picture and byte offset of their first packet.
    public var keyframes: [KeyframeMark] = []
    public var bytes: Int64 = 0
    public var sha256: String?

    static let packetSize = 188
    static let wrap: Int64 = 1 << 33

    /// Seconds of video, first picture to the end of the last.
    public var duration: Double {
        guard let firstPTS, let lastPTS else { return 0 }
        return Double(TransportStreamScan.ticks(from: firstPTS, to: lastPTS) + frameTicks) / 90_000
    }

    /// Ticks from `a` to `b` across the 33-bit wrap.
    static func ticks(from a: Int64, to b: Int64) -> Int64 {
        var delta = (b - a) % wrap
        if delta < 0 { delta += wrap }
        return delta > wrap / 2 ? delta - wrap : delta
    }

    /// The head and the tail of the file: its first and last timestamps and the picture
    /// length. About 80 KB are read (more when a big picture hides the last timestamps).
    /// Keyframes are not indexed (a full read does it).
    public static func quick(path: String, headBytes: Int = 188 * 96, tailBytes: Int = 188 * 384) throws(CatalogError) -> TransportStreamScan {
        let file = try ReadFile(path: path)
        defer { file.close() }
        var scan = TransportStreamScan()
        scan.bytes = file.size
        var head = headBytes, tail = tailBytes
        while true {
            var parser = Parser()
            if file.size <= Int64(head + tail) {
                try file.read(from: 0, count: Int(file.size)) { parser.feed($0, at: 0) }
            } else {
                try file.read(from: 0, count: head) { parser.feed($0, at: 0) }
                let headTimes = parser.starts.count
                parser.startNewRegion()
                let start = (file.size - Int64(tail)) / Int64(packetSize) * Int64(packetSize)
                try file.read(from: start, count: Int(file.size - start)) { parser.feed($0, at: start) }
                let tailTimes = parser.starts.count - headTimes
                // Too few pictures seen at one end: look further (up to 4 MB).
                if (headTimes == 0 || tailTimes < 3) && head + tail < 4 << 20 {
                    head *= 4
                    tail *= 4
                    continue
                }
            }
            parser.finish(into: &scan, keepKeyframes: false)
            return scan
        }
    }

    /// Reads the whole file once: SHA-256, every picture, every keyframe.
    public static func full(path: String) throws(CatalogError) -> TransportStreamScan {
        let file = try ReadFile(path: path)
        defer { file.close() }
        var scan = TransportStreamScan()
        var parser = Parser()
        var hasher = SHA256()
        var offset: Int64 = 0
        let chunk = packetSize * 5577  // about 1 MiB, whole packets
        while offset < file.size {
            let count = Int(min(Int64(chunk), file.size - offset))
            try file.read(from: offset, count: count) { bytes in
                hasher.update(bufferPointer: bytes)
                parser.feed(bytes, at: offset)
            }
            offset += Int64(count)
        }
        scan.bytes = file.size
        scan.sha256 = Hex.string(hasher.finalize())
        parser.finish(into: &scan, keepKeyframes: true)
        return scan
    }

    /// Walks packets, finds the video PES starts and their timestamps.
    struct Parser {
        var videoPID: Int?
        var pictures = 0
        var starts: [(pts: Int64?, byte: Int64, keyframe: Bool)] = []
        /// Timestamps of the region being read (steps between pictures are measured in one region).
        var regionTimes: [Int64] = []
        var steps: [Int64: Int] = [:]

        mutating func startNewRegion() {
            noteSteps()
            regionTimes = []
        }

        mutating func noteSteps() {
            let sorted = regionTimes.sorted()
            for (a, b) in zip(sorted, sorted.dropFirst()) where b > a && b - a < 90_000 { steps[b - a, default: 0] += 1 }
        }

        /// Feeds bytes read at file offset `base` (a multiple of 188 from the file's start).
        mutating func feed(_ bytes: UnsafeRawBufferPointer, at base: Int64) {
            var index = 0
            let count = bytes.count
            let size = TransportStreamScan.packetSize
            while index + size <= count {
                guard bytes[index] == 0x47 else {
                    index += 1  // lost sync: look for the next packet start
                    continue
                }
                packet(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + size)]), at: base + Int64(index))
                index += size
            }
        }

        private mutating func packet(_ p: UnsafeRawBufferPointer, at position: Int64) {
            let unitStart = p[1] & 0x40 != 0
            let pid = (Int(p[1] & 0x1F) << 8) | Int(p[2])
            let control = (p[3] >> 4) & 0x3
            guard unitStart, control & 0x1 != 0 else { return }
            var offset = 4
            var randomAccess = false
            if control & 0x2 != 0 {
                let length = Int(p[4])
                if length > 0 && 5 < p.count { randomAccess = p[5] & 0x40 != 0 }
                offset = 5 + length
            }
            guard offset + 14 <= p.count, p[offset] == 0, p[offset + 1] == 0, p[offset + 2] == 1 else { return }
            let streamID = p[offset + 3]
            guard (0xE0...0xEF).contains(streamID) else { return }
            if videoPID == nil { videoPID = pid }
            guard pid == videoPID else { return }
            var pts: Int64? = nil
            if p[offset + 7] & 0x80 != 0 {
                let b = offset + 9
                pts =
                    (Int64(p[b] >> 1) & 0x07) << 30 | Int64(p[b + 1]) << 22 | Int64(p[b + 2] >> 1) << 15 | Int64(p[b + 3]) << 7
                    | Int64(p[b + 4] >> 1)
            }
            pictures += 1
            starts.append((pts, position, randomAccess))
            if let pts { regionTimes.append(pts) }
        }

        mutating func finish(into scan: inout TransportStreamScan, keepKeyframes: Bool) {
            noteSteps()
            let times = starts.compactMap(\.pts)
            guard let anchor = times.first else { return }
            // Lowest and highest across the wrap, relative to the first timestamp read.
            var low: Int64 = 0, high: Int64 = 0
            for time in times {
                let delta = TransportStreamScan.ticks(from: anchor, to: time)
                low = min(low, delta)
                high = max(high, delta)
            }
            let first = (anchor + low + TransportStreamScan.wrap) % TransportStreamScan.wrap
            scan.firstPTS = first
            scan.lastPTS = (anchor + high + TransportStreamScan.wrap) % TransportStreamScan.wrap
            scan.frameTicks = steps.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key ?? 3600
            if scan.pictures == 0 { scan.pictures = pictures }
            if keepKeyframes {
                scan.pictures = pictures
                scan.keyframes = starts.compactMap { start in
                    guard start.keyframe, let pts = start.pts else { return nil }
                    let offset = Double(TransportStreamScan.ticks(from: first, to: pts)) / 90_000
                    return KeyframeMark(offset: (offset * 1000).rounded() / 1000, byte: start.byte)
                }
            }
        }
    }
}

/// A file read with pread into one reused buffer; closed by `close()`.
private final class ReadFile {
    let descriptor: Int32
    let size: Int64
    let path: String
    private var buffer: UnsafeMutableRawBufferPointer

    init(path: String) throws(CatalogError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CatalogError("cannot read \(path): \(String(cString: strerror(errno)))", kind: .io) }
        var status = stat()
        fstat(descriptor, &status)
        size = Int64(status.st_size)
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 64)
    }

    func read(from offset: Int64, count: Int, _ body: (UnsafeRawBufferPointer) -> Void) throws(CatalogError) {
        if buffer.count < count {
            buffer.deallocate()
            buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        }
        var done = 0
        while done < count {
            let got = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                if got == 0 { break }
                throw CatalogError("cannot read \(path): \(String(cString: strerror(errno)))", kind: .io)
            }
            done += got
        }
        body(UnsafeRawBufferPointer(rebasing: buffer[0..<done]))
    }

    func close() {
        Foundation.close(descriptor)
        buffer.deallocate()
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 64)
    }

    deinit { buffer.deallocate() }
}
