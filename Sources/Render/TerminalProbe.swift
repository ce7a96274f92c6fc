/// What a terminal said about itself, and what Vigie makes of it.
public struct TerminalCapabilities: Sendable, Equatable {
    /// DA1 attribute 4: the terminal draws sixel graphics.
    public var sixel = false
    /// The terminal answered DA1 at all (the end marker of the probe).
    public var answered = false
    /// XTVERSION's name and version ("xterm(379)", "WezTerm 20240203").
    public var name: String?
    /// Pixels of one cell (CSI 16 t), when told.
    public var cellWidth: Int?
    public var cellHeight: Int?
    /// Pixels of the text area (CSI 14 t), when told.
    public var windowWidth: Int?
    public var windowHeight: Int?
    /// Sixel colour registers (XTSMGRAPHICS), when told.
    public var colorRegisters: Int?

    public init() {}

    /// The cell size from either answer (cell size directly, or window size over the cell grid).
    public func cellSize(columns: Int, rows: Int) -> (width: Int, height: Int)? {
        if let cellWidth, let cellHeight, cellWidth > 0, cellHeight > 0 { return (cellWidth, cellHeight) }
        if let windowWidth, let windowHeight, columns > 0, rows > 0, windowWidth >= columns, windowHeight >= rows {
            return (windowWidth / columns, windowHeight / rows)
        }
        return nil
    }
}

/// Probes a terminal in one burst instead of guessing from TERM: XTVERSION, cell and
/// window sizes in pixels, sixel colour registers, then DA1 last, whose answer every
/// terminal gives and so marks the end. The reading side is the caller's (with a
/// timeout: some terminals never answer); this type builds the query and parses answers.
public enum TerminalProbe {
    /// XTVERSION, CSI 16 t, CSI 14 t, XTSMGRAPHICS (read colour registers), DA1.
    public static let query = "\u{1B}[>0q\u{1B}[16t\u{1B}[14t\u{1B}[?1;1;0S\u{1B}[c"

    /// True once `bytes` hold the DA1 answer (the probe is complete).
    public static func isComplete(_ bytes: [UInt8]) -> Bool { parse(bytes).answered }

    /// Reads every answer found in `bytes`, in any order, ignoring what it does not know.
    public static func parse(_ bytes: [UInt8]) -> TerminalCapabilities {
        var capabilities = TerminalCapabilities()
        var index = 0
        while index < bytes.count {
            guard bytes[index] == 0x1B, index + 1 < bytes.count else {
                index += 1
                continue
            }
            if bytes[index + 1] == UInt8(ascii: "P") {
                // DCS: XTVERSION answers DCS > | text ST.
                var end = index + 2
                while end + 1 < bytes.count && !(bytes[end] == 0x1B && bytes[end + 1] == UInt8(ascii: "\\")) { end += 1 }
                let body = String(decoding: bytes[(index + 2)..<min(end, bytes.count)], as: UTF8.self)
                if body.hasPrefix(">|") { capabilities.name = String(body.dropFirst(2)) }
                index = end + 2
                continue
            }
            guard bytes[index + 1] == UInt8(ascii: "[") else {
                index += 1
                continue
            }
            // CSI: parameters up to the final byte (0x40-0x7E).
            var end = index + 2
            while end < bytes.count && !(0x40...0x7E).contains(bytes[end]) { end += 1 }
            guard end < bytes.count else { break }
            let final = bytes[end]
            let body = String(decoding: bytes[(index + 2)..<end], as: UTF8.self)
            let isPrivate = body.hasPrefix("?")
            let numbers = body.drop { $0 == "?" || $0 == ">" }.split(separator: ";").map { Int($0) }
            switch final {
            case UInt8(ascii: "c") where isPrivate:
                capabilities.answered = true
                if numbers.dropFirst().contains(4) { capabilities.sixel = true }
            case UInt8(ascii: "t"):
                if numbers.count == 3, let kind = numbers[0], let height = numbers[1], let width = numbers[2] {
                    if kind == 6 {
                        capabilities.cellHeight = height
                        capabilities.cellWidth = width
                    } else if kind == 4 {
                        capabilities.windowHeight = height
                        capabilities.windowWidth = width
                    }
                }
            case UInt8(ascii: "S") where isPrivate:
                // CSI ? 1 ; 0 ; N S: colour registers, status 0 = success.
                if numbers.count >= 3, numbers[0] == 1, numbers[1] == 0, let registers = numbers[2] {
                    capabilities.colorRegisters = registers
                }
            default:
                break
            }
            index = end + 1
        }
        return capabilities
    }

    /// The colours to use: COLORTERM first (truecolor, 24bit), then the terminfo entry's
    /// RGB or Tc flag (`terminfoDirectColour`, read by the console), then what TERM and the
    /// terminal's name say.
    public static func colorMode(
        environment: [String: String], capabilities: TerminalCapabilities?, terminfoDirectColour: Bool = false
    ) -> ColorMode {
        let colorTerm = environment["COLORTERM"]?.lowercased() ?? ""
        if colorTerm.contains("truecolor") || colorTerm.contains("24bit") { return .truecolor }
        if terminfoDirectColour { return .truecolor }
        let term = environment["TERM"] ?? ""
        if term.hasSuffix("-direct") { return .truecolor }
        let name = capabilities?.name?.lowercased() ?? ""
        for known in ["kitty", "wezterm", "foot", "iterm2", "contour", "ghostty"] where name.contains(known) { return .truecolor }
        if term.contains("256") { return .palette256 }
        return term.isEmpty || term == "dumb" || term == "linux" || term == "vt100" ? .palette16 : .palette256
    }
}
