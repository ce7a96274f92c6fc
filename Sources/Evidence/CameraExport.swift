public import Crypto
public import Foundation
public import Media
public import RecorderCore

/// A period without footage inside an exported one.
public struct ExportGap: Codable, Sendable, Hashable {
    public var from: Date
    public var to: Date
    public var reason: String
}

/// One file of an export, as the manifest lists it.
public struct ExportedFile: Codable, Sendable, Hashable {
    public var name: String
    public var camera: String
    public var cameraName: String
    public var location: String
    /// The first and last pictures' times (UTC): from the keyframe at or before the period asked.
    public var from: Date
    public var to: Date
    public var frames: Int
    public var codec: String
    public var width: Int
    public var height: Int
    public var bytes: Int64
    public var sha256: String
    /// SHA-256 of each `chunkBytes` block in order: a changed byte is found to its block.
    public var chunkBytes: Int
    public var chunks: [String]
    /// The segments it was copied from, with their SHA-256 as the catalog recorded them.
    public var segments: [String]
}

/// Copies a camera's recorded packets into MP4 files by stream copy (no re-encoding: every
/// frame kept), one file per continuous stretch (a gap or a change of the stream starts the
/// next), each with a timed-text track giving the date and time of every second, then signed
/// the ONVIF Export File Format way (`OnvifMetaBox` appended, RSASSA-PSS over the file).
public struct CameraExport {
    public let store: RecordingStore
    public let camera: Camera
    public let timeZone: TimeZone
    public let identity: EvidenceIdentity
    public let unit: (name: String, url: String)
    public let operatorName: String
    /// What `auib` says: the requisition and its authority.
    public let purpose: String
    public static let chunkBytes = 4 << 20
    /// A hole longer than this between two packets is a gap (a new file).
    public static let gapSeconds = 2.0

    public init(
        store: RecordingStore, camera: Camera, timeZone: TimeZone, identity: EvidenceIdentity, unit: (name: String, url: String), operatorName: String,
        purpose: String
    ) {
        self.store = store
        self.camera = camera
        self.timeZone = timeZone
        self.identity = identity
        self.unit = unit
        self.operatorName = operatorName
        self.purpose = purpose
    }

    /// The 3GPP timed-text sample description: no scroll, centred at the bottom, transparent
    /// background, white 18-point text in the player's serif font.
    static let textSampleDescription: [UInt8] =
        [0, 0, 0, 0, 0x01, 0xFF, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [0, 0, 0, 0, 0, 1, 0, 0x12, 0xFF, 0xFF, 0xFF, 0xFF]
        + BMFF.u32(18) + BMFF.fourCC("ftab") + [0, 1, 0, 1, 5] + Array("Serif".utf8)

    /// Exports `from..<to` into `directory`; the files written (none when nothing is recorded then).
    public func run(from: Date, to: Date, into directory: URL, stop: () -> Bool = { false }) throws -> (files: [ExportedFile], gaps: [ExportGap]) {
        let packets = SegmentPackets(store: store, camera: camera.id)
        guard var stream = try packets.position(at: from), stream.origin < to else { return ([], try recordedGaps(from: from, to: to)) }
        var files: [ExportedFile] = []
        var part: Part? = nil
        var lastTime: Date? = nil
        func finish() throws {
            guard let current = part else { return }
            part = nil
            files.append(try current.close(sign: self, index: files.count))
        }
        reading: while !stop() {
            guard let item = try packets.read() else { break }
            switch item {
            case .stream(let next):
                if let current = part, !current.parameters.sameStream(as: next.info.parameters) { try finish() }
                stream = next
            case .packet(let packet):
                guard let pts = packet.pts else { continue }
                let time = stream.origin.addingTimeInterval(stream.info.timeBase.seconds(pts))
                if time >= to { break reading }
                if let last = lastTime, time.timeIntervalSince(last) > CameraExport.gapSeconds { try finish() }
                if part == nil {
                    // A file starts on a keyframe (the one at or before the period, or after a gap).
                    guard packet.isKeyframe else { continue }
                    part = try Part(export: self, directory: directory, index: files.count, stream: stream, start: time)
                }
                try part!.write(packet, at: time, stream: stream)
                lastTime = time
            }
        }
        try finish()
        var gaps = try recordedGaps(from: files.first?.from ?? from, to: files.last?.to ?? to)
        // Holes between files that the catalog does not name (a camera that sent nothing).
        for (before, after) in zip(files, files.dropFirst()) where !gaps.contains(where: { $0.from <= after.from && $0.to >= before.to }) {
            gaps.append(ExportGap(from: before.to, to: after.from, reason: "no pictures received"))
        }
        return (files, gaps.sorted { $0.from < $1.from })
    }

    private func recordedGaps(from: Date, to: Date) throws -> [ExportGap] {
        try store.catalog.gaps(camera: camera.id, from: from, to: to).map { ExportGap(from: max($0.start, from), to: min($0.end, to), reason: $0.reason) }
    }

    /// One MP4 being written.
    final class Part {
        let writer: StreamCopyWriter
        let parameters: CodecParameters
        let path: URL
        let name: String
        let start: Date
        var end: Date
        var frames = 0
        var nextSecond: Date
        var segments: [String] = []
        static let videoTimeBase = Rational(1, 90_000)
        static let textTimeBase = Rational(1, 1000)
        let export: CameraExport
        let clock: DateFormatter

        init(export: CameraExport, directory: URL, index: Int, stream: RecordedStream, start: Date) throws {
            self.export = export
            parameters = stream.info.parameters
            let stamp = DateFormatter()
            stamp.locale = Locale(identifier: "en_US_POSIX")
            stamp.timeZone = TimeZone(identifier: "UTC")
            stamp.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
            // The part's number too: two parts can start within one second (a change of stream).
            name = "\(export.camera.id)_\(stamp.string(from: start))_\(index + 1).mp4"
            path = directory.appendingPathComponent(name)
            self.start = start
            end = start
            nextSecond = Date(timeIntervalSince1970: start.timeIntervalSince1970.rounded(.down))
            guard let text = CodecParameters(timedTextSampleDescription: CameraExport.textSampleDescription) else {
                throw EvidenceError("FFmpeg has no timed-text (mov_text) support")
            }
            let iso = ISO8601DateFormatter()
            iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            writer = try StreamCopyWriter(
                path: path.path, formatName: "mp4", streams: [(parameters, Part.videoTimeBase), (text, Part.textTimeBase)],
                metadata: [
                    "creation_time": iso.string(from: start), "title": "\(export.camera.name) (\(export.camera.id)), \(export.camera.location)",
                    "comment": export.purpose,
                ])
            clock = DateFormatter()
            clock.locale = Locale(identifier: "en_GB_POSIX")
            clock.timeZone = export.timeZone
            clock.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
            segments.append(stream.segmentPath)
        }

        func write(_ packet: Packet, at time: Date, stream: RecordedStream) throws {
            if segments.last != stream.segmentPath { segments.append(stream.segmentPath) }
            // The date and time of each second of footage up to this picture.
            while nextSecond <= time {
                let text = "\(clock.string(from: nextSecond))  \(export.camera.name) (\(export.camera.id))"
                let bytes = Array(text.utf8)
                let payload = BMFF.u16(UInt16(bytes.count)) + bytes
                let at = max(0, Int64((nextSecond.timeIntervalSince(start) * 1000).rounded()))
                let following = nextSecond.addingTimeInterval(1)
                let sample = payload.withUnsafeBytes {
                    Packet(payload: $0, pts: at, dts: at, duration: Int64((following.timeIntervalSince(start) * 1000).rounded()) - at, isKeyframe: true, timeBase: Part.textTimeBase)
                }
                if let sample { try writer.write(sample, streamIndex: 1) }
                nextSecond = following
            }
            let base = stream.info.timeBase
            let offset = stream.origin.timeIntervalSince(start)
            func moved(_ value: Int64?) -> Int64? { value.map { Int64(((base.seconds($0) + offset) * 90_000).rounded()) } }
            let duration = Int64((base.seconds(packet.duration) * 90_000).rounded())
            try writer.write(packet.retimed(pts: moved(packet.pts), dts: moved(packet.dts), duration: duration, timeBase: Part.videoTimeBase), streamIndex: 0)
            frames += 1
            end = time
        }

        /// Closes the MP4, appends the signed ONVIF box, and hashes the result.
        func close(sign export: CameraExport, index: Int) throws -> ExportedFile {
            try writer.close()
            let meta = OnvifMetaBox(
                unitName: export.unit.name, unitURL: export.unit.url, unitMAC: "", exportTime: Date(), operatorName: export.operatorName,
                tracks: [
                    .init(id: 1, sourceName: "\(export.camera.name) (\(export.camera.id))", sourceURL: "", sourceLine: export.camera.location, start: start),
                    .init(id: 2, sourceName: "date and time", sourceURL: "", sourceLine: "", start: start),
                ],
                certificateDER: export.identity.certificateDER, userInformation: export.purpose, signatureLength: try export.identity.signatureLength())
            let (box, signatureOffset) = meta.bytes()
            guard let handle = FileHandle(forUpdatingAtPath: path.path) else { throw EvidenceError("cannot reopen \(path.path)") }
            defer { try? handle.close() }
            let movieEnd = try handle.seekToEnd()
            try handle.write(contentsOf: Data(box))
            // One read of the movie: the hash to sign (box with a zero signature) and, forked
            // from the same state, the file's own hash (box with the signature); block hashes too.
            var hasher = SHA256()
            var blocks = BlockHashes(size: CameraExport.chunkBytes)
            try handle.seek(toOffset: 0)
            var remaining = Int(movieEnd)
            while remaining > 0 {
                guard let data = try handle.read(upToCount: min(remaining, 1 << 20)), !data.isEmpty else { throw EvidenceError("\(path.path) ended early") }
                hasher.update(data: data)
                blocks.update(data)
                remaining -= data.count
            }
            var signed = hasher
            signed.update(data: box)
            let signature = [UInt8](try export.identity.sign(signed.finalize()))
            var final = box
            final.replaceSubrange(signatureOffset..<(signatureOffset + signature.count), with: signature)
            try handle.seek(toOffset: movieEnd + UInt64(signatureOffset))
            try handle.write(contentsOf: Data(signature))
            try handle.synchronize()
            hasher.update(data: final)
            blocks.update(final)
            let chunks = blocks.finish()
            let video = parameters
            return ExportedFile(
                name: name, camera: export.camera.id, cameraName: export.camera.name, location: export.camera.location, from: start, to: end, frames: frames,
                codec: video.codecName, width: video.width, height: video.height, bytes: Int64(movieEnd) + Int64(final.count), sha256: Hex.of(hasher.finalize()),
                chunkBytes: CameraExport.chunkBytes, chunks: chunks, segments: segments)
        }
    }
}

extension EvidenceIdentity {
    /// Bytes of a signature: the modulus's length.
    func signatureLength() throws -> Int { (try RSAPublicNumbers(certificateDER: certificateDER).bits + 7) / 8 }
}
