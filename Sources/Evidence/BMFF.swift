public import Foundation

/// ISO base media file format (ISO/IEC 14496-12) boxes: what an export writes after the
/// movie (its ONVIF `meta` box) and what `export verify` reads. Sizes are 32-bit (ONVIF's
/// verifiers require it of the boxes they patch); integers big-endian.
public enum BMFF {
    public struct Box: Sendable, Hashable {
        public let type: String
        /// Offset of the box's first byte (its size field) in the file or buffer.
        public let offset: Int
        public let size: Int
        public let headerSize: Int
        public var payloadOffset: Int { offset + headerSize }
        public var end: Int { offset + size }
    }

    static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func u32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (24 - 8 * UInt32($0))) & 0xFF) } }
    static func u64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8((value >> (56 - 8 * UInt64($0))) & 0xFF) } }
    static func cString(_ text: String) -> [UInt8] { Array(text.utf8.filter { $0 != 0 }) + [0] }
    static func fourCC(_ type: String) -> [UInt8] { Array(type.utf8.prefix(4)) }

    static func box(_ type: String, _ payload: [UInt8]) -> [UInt8] { u32(UInt32(8 + payload.count)) + fourCC(type) + payload }
    static func fullBox(_ type: String, version: UInt8 = 0, flags: UInt32 = 0, _ payload: [UInt8]) -> [UInt8] {
        box(type, [version, UInt8((flags >> 16) & 0xFF), UInt8((flags >> 8) & 0xFF), UInt8(flags & 0xFF)] + payload)
    }

    static func readU32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (UInt32(bytes[at]) << 24) | (UInt32(bytes[at + 1]) << 16) | (UInt32(bytes[at + 2]) << 8) | UInt32(bytes[at + 3])
    }
    static func readU64(_ bytes: [UInt8], _ at: Int) -> UInt64 { (UInt64(readU32(bytes, at)) << 32) | UInt64(readU32(bytes, at + 4)) }

    /// The boxes in `bytes[from..<to]`, in order; nil when a size is not sane.
    static func boxes(in bytes: [UInt8], from: Int, to: Int, base: Int = 0) -> [Box]? {
        var boxes: [Box] = []
        var at = from
        while at < to {
            guard to - at >= 8 else { return nil }
            var size = Int(readU32(bytes, at)), header = 8
            if size == 1 {
                guard to - at >= 16, let large = Int(exactly: readU64(bytes, at + 8)) else { return nil }
                size = large
                header = 16
            }
            guard size >= header, size <= to - at, let type = String(bytes: bytes[(at + 4)..<(at + 8)], encoding: .isoLatin1) else { return nil }
            boxes.append(Box(type: type, offset: base + at, size: size, headerSize: header))
            at += size
        }
        return boxes
    }

    /// The top-level boxes of a file (headers only: the file is not read whole).
    public static func topLevelBoxes(of path: String) throws -> [Box] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw EvidenceError("cannot read \(path)") }
        defer { try? handle.close() }
        let length = Int(try handle.seekToEnd())
        var boxes: [Box] = []
        var at = 0
        while at < length {
            try handle.seek(toOffset: UInt64(at))
            let header = [UInt8](handle.readData(ofLength: 16))
            guard header.count >= 8 else { throw EvidenceError("\(path): a box is cut at byte \(at)") }
            var size = Int(readU32(header, 0)), headerSize = 8
            if size == 1 {
                guard header.count == 16, let large = Int(exactly: readU64(header, 8)) else { throw EvidenceError("\(path): a box is cut at byte \(at)") }
                size = large
                headerSize = 16
            } else if size == 0 {
                size = length - at
            }
            guard size >= headerSize, size <= length - at, let type = String(bytes: header[4..<8], encoding: .isoLatin1) else {
                throw EvidenceError("\(path): the box at byte \(at) has a size (\(size)) that does not fit the file (\(length) bytes)")
            }
            boxes.append(Box(type: type, offset: at, size: size, headerSize: headerSize))
            at += size
        }
        return boxes
    }
}

/// The ONVIF Export File Format's file-level `meta` box, written last in the file:
/// `meta { hdlr, suep, ipro { sinf { schm 'oeff', schi { sibo, cert, auib, cstb } } } }`:
/// the exporting unit and operator (`suep`), the signature (`sibo`, RSASSA-PSS over the whole
/// file with the signature's bytes zero) and the signer's certificate (`cert`, DER), the
/// export's purpose (`auib`), and each track's UTC start (`cstb`, inside the signed part).
public struct OnvifMetaBox: Sendable {
    public struct Track: Sendable {
        public var id: UInt32
        public var sourceName: String
        public var sourceURL: String
        public var sourceLine: String
        public var start: Date
        public init(id: UInt32, sourceName: String, sourceURL: String, sourceLine: String, start: Date) {
            self.id = id
            self.sourceName = sourceName
            self.sourceURL = sourceURL
            self.sourceLine = sourceLine
            self.start = start
        }
    }

    public var unitName: String
    public var unitURL: String
    public var unitMAC: String
    public var exportTime: Date
    public var operatorName: String
    public var tracks: [Track]
    public var certificateDER: [UInt8]
    public var userInformation: String
    public var signatureLength: Int

    public init(
        unitName: String, unitURL: String, unitMAC: String, exportTime: Date, operatorName: String, tracks: [Track], certificateDER: [UInt8],
        userInformation: String, signatureLength: Int
    ) {
        self.unitName = unitName
        self.unitURL = unitURL
        self.unitMAC = unitMAC
        self.exportTime = exportTime
        self.operatorName = operatorName
        self.tracks = tracks
        self.certificateDER = certificateDER
        self.userInformation = userInformation
        self.signatureLength = signatureLength
    }

    /// Seconds since 1904-01-01 UTC (ISO BMFF times).
    static func since1904(_ date: Date) -> UInt64 { UInt64(max(0, date.timeIntervalSince1970 + 2_082_844_800)) }
    /// 100-nanosecond ticks since 1601-01-01 UTC (Windows FILETIME, as `cstb` has them).
    static func fileTime(_ date: Date) -> UInt64 { UInt64(max(0, ((date.timeIntervalSince1970 + 11_644_473_600) * 10_000_000).rounded())) }
    static func date(fileTime: UInt64) -> Date { Date(timeIntervalSince1970: Double(fileTime) / 10_000_000 - 11_644_473_600) }

    /// The box's bytes, with a zero signature, and where the signature's bytes start in them.
    public func bytes() -> (box: [UInt8], signatureOffset: Int) {
        var suep = BMFF.cString(unitName) + BMFF.cString(unitURL) + BMFF.cString(unitMAC) + BMFF.u64(OnvifMetaBox.since1904(exportTime))
        suep += BMFF.cString(operatorName) + BMFF.u32(UInt32(tracks.count))
        for track in tracks {
            suep += BMFF.u16(UInt16(truncatingIfNeeded: track.id)) + BMFF.cString(track.sourceName) + BMFF.cString(track.sourceURL) + BMFF.cString("")
            suep += BMFF.cString(track.sourceLine)
        }
        let hdlr = BMFF.fullBox("hdlr", BMFF.u32(0) + BMFF.fourCC("null") + BMFF.u32(0) + BMFF.u32(0) + BMFF.u32(0) + BMFF.cString("ONVIF Export File Format"))
        var cstb = BMFF.u32(UInt32(tracks.count))
        for track in tracks { cstb += BMFF.u32(track.id) + BMFF.u64(OnvifMetaBox.fileTime(track.start)) }
        let schm = BMFF.fullBox("schm", BMFF.fourCC("oeff") + BMFF.u32(0x0001_0000))
        let sibo = BMFF.box("sibo", [UInt8](repeating: 0, count: signatureLength))
        let schi = BMFF.box("schi", sibo + BMFF.box("cert", certificateDER) + BMFF.box("auib", BMFF.cString(userInformation)) + BMFF.box("cstb", cstb))
        let sinf = BMFF.box("sinf", schm + schi)
        let ipro = BMFF.fullBox("ipro", BMFF.u16(1) + sinf)
        let suepBox = BMFF.fullBox("suep", version: 1, suep)
        let meta = BMFF.fullBox("meta", hdlr + suepBox + ipro)
        // meta header 12, hdlr, suep, ipro header 12 + count 2, sinf header 8, schm, schi header 8, sibo header 8.
        let signatureOffset = 12 + hdlr.count + suepBox.count + 14 + 8 + schm.count + 8 + 8
        return (meta, signatureOffset)
    }

    /// What a signed export's `meta` box holds, read back: the signature's place and bytes,
    /// the certificate, the user information and the tracks' starts.
    public struct Parsed: Sendable {
        public var signatureOffset: Int
        public var signature: [UInt8]
        public var certificateDER: [UInt8]
        public var userInformation: String?
        public var starts: [(track: UInt32, start: Date)]
        public var unitName: String
        public var operatorName: String
        public var exportTime: Date
        public var schemeType: String
    }

    /// Parses the file-level `meta` box (bytes of the box alone; `offset` its place in the file).
    public static func parse(_ bytes: [UInt8], offset: Int) throws -> Parsed {
        func fail(_ what: String) -> EvidenceError { EvidenceError("the ONVIF meta box (at byte \(offset)): \(what)") }
        guard bytes.count >= 12, let children = BMFF.boxes(in: bytes, from: 12, to: bytes.count) else { throw fail("its boxes do not fit it") }
        func child(_ list: [BMFF.Box], _ type: String) throws -> BMFF.Box {
            guard let found = list.first(where: { $0.type == type }) else { throw fail("no `\(type)` box") }
            return found
        }
        let suep = try child(children, "suep")
        let ipro = try child(children, "ipro")
        guard ipro.end - ipro.payloadOffset >= 6, let sinf = BMFF.boxes(in: bytes, from: ipro.payloadOffset + 6, to: ipro.end)?.first(where: { $0.type == "sinf" }) else { throw fail("no `sinf` in `ipro`") }
        guard let inSinf = BMFF.boxes(in: bytes, from: sinf.payloadOffset, to: sinf.end) else { throw fail("`sinf` is damaged") }
        let schm = try child(inSinf, "schm"), schi = try child(inSinf, "schi")
        guard schm.end - schm.payloadOffset >= 12 else { throw fail("`schm` is too short") }
        let scheme = String(bytes: bytes[(schm.payloadOffset + 4)..<(schm.payloadOffset + 8)], encoding: .isoLatin1) ?? ""
        guard let inSchi = BMFF.boxes(in: bytes, from: schi.payloadOffset, to: schi.end) else { throw fail("`schi` is damaged") }
        let sibo = try child(inSchi, "sibo"), cert = try child(inSchi, "cert")
        var information: String? = nil
        if let auib = inSchi.first(where: { $0.type == "auib" }) {
            information = String(decoding: bytes[auib.payloadOffset..<auib.end].prefix { $0 != 0 }, as: UTF8.self)
        }
        var starts: [(UInt32, Date)] = []
        if let cstb = inSchi.first(where: { $0.type == "cstb" }), cstb.size >= 12 {
            let count = Int(BMFF.readU32(bytes, cstb.payloadOffset))
            for index in 0..<count where cstb.payloadOffset + 4 + 12 * (index + 1) <= cstb.end {
                let at = cstb.payloadOffset + 4 + 12 * index
                starts.append((BMFF.readU32(bytes, at), OnvifMetaBox.date(fileTime: BMFF.readU64(bytes, at + 4))))
            }
        }
        // suep: full box header (4), then unit name, URL, MAC, time (u64), operator.
        guard suep.end - suep.payloadOffset >= 4 else { throw fail("`suep` is too short") }
        var at = suep.payloadOffset + 4
        func string() -> String {
            let start = at
            while at < suep.end && bytes[at] != 0 { at += 1 }
            defer { at += 1 }
            return String(decoding: bytes[start..<min(at, suep.end)], as: UTF8.self)
        }
        let unit = string()
        _ = string()
        _ = string()
        let time = at + 8 <= suep.end ? BMFF.readU64(bytes, at) : 0
        at += 8
        let operatorName = string()
        return Parsed(
            signatureOffset: sibo.payloadOffset, signature: Array(bytes[sibo.payloadOffset..<sibo.end]), certificateDER: Array(bytes[cert.payloadOffset..<cert.end]),
            userInformation: information, starts: starts, unitName: unit, operatorName: operatorName,
            exportTime: Date(timeIntervalSince1970: Double(time) - 2_082_844_800), schemeType: scheme)
    }
}
