/// Bytes for the terminal, with what the terminal's state will be once they are written
/// (cursor position, colours in effect), so nothing already in effect is sent again.
///
/// One buffer a frame; every tile of the frame writes into it, then the console writes it
/// to the terminal in one go.
public struct VTBuffer: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// 0-based row and column of the cursor, when known.
    var cursor: (row: Int, column: Int)? = nil
    var foreground: RGB? = nil
    var background: RGB? = nil
    public let colorMode: ColorMode

    public init(colorMode: ColorMode, capacity: Int = 1 << 16) {
        self.colorMode = colorMode
        bytes.reserveCapacity(capacity)
    }

    /// Removes the bytes (after they were written) but keeps the known terminal state.
    public mutating func drain() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    /// Forgets the terminal's state (something else wrote to it).
    public mutating func forgetState() {
        cursor = nil
        foreground = nil
        background = nil
    }

    public mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    @inline(__always)
    mutating func appendRaw(_ byte: UInt8) { bytes.append(byte) }

    /// The cursor's place is unknown (after a sixel image): the next move is absolute.
    public mutating func forgetCursor() { cursor = nil }

    @inline(__always)
    mutating func appendNumber(_ value: Int) {
        if value < VTBuffer.numbers.count {
            bytes.append(contentsOf: VTBuffer.numbers[value])
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
    }

    static let numbers: [[UInt8]] = (0..<1000).map { Array(String($0).utf8) }

    /// `CSI ? 2026 h`: the terminal holds the picture until `endSynchronizedUpdate()`.
    public mutating func beginSynchronizedUpdate() { append("\u{1B}[?2026h") }
    public mutating func endSynchronizedUpdate() { append("\u{1B}[?2026l") }

    /// Resets colours (`CSI 0 m`) so text drawn afterwards by others is not tinted.
    public mutating func resetAttributes() {
        if foreground != nil || background != nil {
            append("\u{1B}[0m")
        }
        foreground = nil
        background = nil
    }

    /// Moves the cursor to a 0-based row and column, as cheaply as possible.
    @inline(__always)
    public mutating func moveTo(row: Int, column: Int) {
        if let cursor, cursor.row == row {
            if cursor.column == column { return }
            if column > cursor.column {
                let gap = column - cursor.column
                bytes.append(0x1B)
                bytes.append(UInt8(ascii: "["))
                if gap > 1 { appendNumber(gap) }
                bytes.append(UInt8(ascii: "C"))
                self.cursor = (row, column)
                return
            }
        }
        bytes.append(0x1B)
        bytes.append(UInt8(ascii: "["))
        appendNumber(row + 1)
        bytes.append(UInt8(ascii: ";"))
        appendNumber(column + 1)
        bytes.append(UInt8(ascii: "H"))
        cursor = (row, column)
    }

    /// Writes one cell at the cursor: colours first (only those not in effect), then the glyph.
    @inline(__always)
    mutating func write(_ cell: Cell, glyph: Unicode.Scalar) {
        let needsForeground = cell.mask != 0
        let changeBackground = background != cell.background
        let changeForeground = needsForeground && foreground != cell.foreground
        if changeBackground || changeForeground {
            bytes.append(0x1B)
            bytes.append(UInt8(ascii: "["))
            if changeForeground {
                appendColor(cell.foreground, foreground: true)
                foreground = cell.foreground
            }
            if changeBackground {
                if changeForeground { bytes.append(UInt8(ascii: ";")) }
                appendColor(cell.background, foreground: false)
                background = cell.background
            }
            bytes.append(UInt8(ascii: "m"))
        }
        let value = glyph.value
        if value < 0x80 {
            bytes.append(UInt8(value))
        } else if value < 0x800 {
            bytes.append(UInt8(0xC0 | (value >> 6)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        } else if value < 0x10000 {
            bytes.append(UInt8(0xE0 | (value >> 12)))
            bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        } else {
            bytes.append(UInt8(0xF0 | (value >> 18)))
            bytes.append(UInt8(0x80 | ((value >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        }
        if let cursor { self.cursor = (cursor.row, cursor.column + 1) }
    }

    @inline(__always)
    private mutating func appendColor(_ color: RGB, foreground: Bool) {
        switch colorMode {
        case .truecolor:
            bytes.append(foreground ? UInt8(ascii: "3") : UInt8(ascii: "4"))
            bytes.append(contentsOf: [UInt8(ascii: "8"), UInt8(ascii: ";"), UInt8(ascii: "2"), UInt8(ascii: ";")])
            appendNumber(Int(color.r))
            bytes.append(UInt8(ascii: ";"))
            appendNumber(Int(color.g))
            bytes.append(UInt8(ascii: ";"))
            appendNumber(Int(color.b))
        case .palette256:
            bytes.append(foreground ? UInt8(ascii: "3") : UInt8(ascii: "4"))
            bytes.append(contentsOf: [UInt8(ascii: "8"), UInt8(ascii: ";"), UInt8(ascii: "5"), UInt8(ascii: ";")])
            appendNumber(Int(Palette.nearest256(color)))
        case .palette16:
            let index = Int(Palette.nearest16(color))
            appendNumber((foreground ? 30 : 40) + (index < 8 ? index : 60 + index - 8))
        }
    }
}

extension VTBuffer {
    /// Writes text (one cell per character) at a place, in bold colours; the cursor and
    /// the colours in effect are tracked as for cells.
    public mutating func writeText(_ text: String, row: Int, column: Int, foreground: RGB, background: RGB) {
        moveTo(row: row, column: column)
        append("\u{1B}[1m")
        // Bold resets nothing, but the colours are sent again to be sure of them.
        self.foreground = nil
        self.background = nil
        for scalar in text.unicodeScalars {
            // A control character would be obeyed by the terminal, not shown: one visible cell instead.
            let control =
                scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || (0x202A...0x202E).contains(scalar.value)
                || (0x2066...0x2069).contains(scalar.value) || [0x061C, 0x200E, 0x200F].contains(scalar.value)
            write(Cell(mask: 1, foreground: foreground, background: background), glyph: control ? "\u{FFFD}" : scalar)
        }
        append("\u{1B}[22m")
    }
}
