/// Text that reaches a terminal: camera names, locations, notes, hold references and
/// reasons, what a camera's server answered. Any of it may come from someone hostile (a
/// site file, the catalog, an RTSP server), and a terminal obeys the control characters
/// in what it is sent: ESC starts a sequence that can move the cursor, rewrite a line the
/// auditor reads or set the window title; CR overwrites a line; bidirectional overrides
/// reorder what is shown. So every such character is shown, never obeyed.
public enum TerminalText {
    /// Why a character may not stand in a configuration value, or nil when it may.
    public static func problem(with scalar: Unicode.Scalar, allowLineBreaks: Bool = false) -> String? {
        if allowLineBreaks && (scalar == "\n" || scalar == "\t") { return nil }
        if scalar.value < 0x20 || scalar.value == 0x7F { return "a control character (\(name(of: scalar)))" }
        if (0x80...0x9F).contains(scalar.value) { return "a C1 control character (\(name(of: scalar)))" }
        if isBidirectionalControl(scalar) { return "an invisible direction override (\(name(of: scalar)))" }
        return nil
    }

    /// The first character of `text` that a terminal would obey rather than show, with its
    /// position (1-based, in characters) and why.
    public static func firstProblem(in text: String, allowLineBreaks: Bool = false) -> (position: Int, problem: String)? {
        var position = 0
        for scalar in text.unicodeScalars {
            position += 1
            if let problem = problem(with: scalar, allowLineBreaks: allowLineBreaks) { return (position, problem) }
        }
        return nil
    }

    /// `text` with every control character shown instead of obeyed: C0 characters in caret
    /// notation as `cat -v` prints them (ESC is `^[`, CR `^M`, LF `^J`, DEL `^?`), C1
    /// characters and direction overrides as `<U+009B>`. Text without them comes back as is.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { problem(with: $0) != nil }) else { return text }
        var output = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 {
                output.append("^")
                output.append(Unicode.Scalar(UInt8(scalar.value + 0x40)))
            } else if scalar.value == 0x7F {
                output.append(contentsOf: "^?".unicodeScalars)
            } else if problem(with: scalar) != nil {
                output.append(contentsOf: codePoint(scalar).unicodeScalars)
            } else {
                output.append(scalar)
            }
        }
        return String(output)
    }

    /// `text` with each control character replaced by one visible cell (`�`), for places
    /// that count cells (wall labels, the status bar): the width stays what it was.
    public static func inCells(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { problem(with: $0) != nil }) else { return text }
        var output = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { output.append(problem(with: scalar) == nil ? scalar : "\u{FFFD}") }
        return String(output)
    }

    static func isBidirectionalControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "<U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)>"
    }

    static func name(of scalar: Unicode.Scalar) -> String {
        let names: [UInt32: String] = [
            0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x09: "TAB", 0x0A: "LF", 0x0D: "CR", 0x1B: "ESC", 0x7F: "DEL", 0x9B: "CSI",
            0x9D: "OSC",
        ]
        return names[scalar.value].map { "\(codePoint(scalar)) \($0)" } ?? codePoint(scalar)
    }
}
