import Foundation
import RecorderCore

// What commands print goes through these two functions. The text comes from site files,
// the catalog and camera servers, any of which may hold control characters: each one is
// shown escaped (`^[`, `<U+009B>`), never sent to the terminal to obey. One call prints one
// line, so a line break inside a value cannot forge a line of its own.

/// Prints one line to standard output, control characters escaped (shadows `Swift.print`
/// in this module).
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    let text = items.map { "\($0)" }.joined(separator: separator)
    Swift.print(TerminalText.escaped(text), terminator: terminator)
}

/// Prints one line to standard error, control characters escaped.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((TerminalText.escaped(text) + "\n").utf8))
}
