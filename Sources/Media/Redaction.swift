/// Removes credentials from URLs before they are shown, logged or stored.
///
/// Camera URLs often carry `user:password@`. Every place that prints a URL, and every
/// line FFmpeg logs, goes through `redactCredentials(in:)` first.
public enum Redaction {
    /// What replaces the user-information part of a URL.
    public static let mask = "***"

    /// Returns `text` with the user-information part of every `scheme://user:pass@host`
    /// replaced by `***`. Text without URLs comes back unchanged.
    public static func redactCredentials(in text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count >= 4, let _ = firstSchemeSeparator(in: bytes, from: 0) else { return text }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while let separator = firstSchemeSeparator(in: bytes, from: index) {
            let authorityStart = separator + 3
            output.append(contentsOf: bytes[index..<authorityStart])
            // The URL token runs to the first blank, quote or angle bracket.
            var tokenEnd = authorityStart
            while tokenEnd < bytes.count, !isTokenEnd(bytes[tokenEnd]) { tokenEnd += 1 }
            if let at = userInfoEnd(in: bytes, from: authorityStart, to: tokenEnd) {
                output.append(contentsOf: mask.utf8)
                index = at  // keep the '@'
            } else {
                index = authorityStart
            }
        }
        output.append(contentsOf: bytes[index...])
        return String(decoding: output, as: UTF8.self)
    }

    /// True when `url` carries a user name or password.
    public static func hasCredentials(_ url: String) -> Bool {
        redactCredentials(in: url) != url
    }

    private static func firstSchemeSeparator(in bytes: [UInt8], from start: Int) -> Int? {
        var i = start
        while i + 2 < bytes.count {
            if bytes[i] == UInt8(ascii: ":"), bytes[i + 1] == UInt8(ascii: "/"), bytes[i + 2] == UInt8(ascii: "/"),
                i > 0, isSchemeCharacter(bytes[i - 1])
            {
                return i
            }
            i += 1
        }
        return nil
    }

    /// The index of the '@' that ends a user-information part, if the authority has one.
    /// A password may hold a '/' that was not percent-encoded (camera firmware accepts it):
    /// an '@' after a slash still counts when a ':' precedes the slash.
    private static func userInfoEnd(in bytes: [UInt8], from start: Int, to end: Int) -> Int? {
        guard let at = bytes[start..<end].firstIndex(of: UInt8(ascii: "@")) else { return nil }
        let firstSlash = bytes[start..<end].firstIndex(of: UInt8(ascii: "/"))
        if let firstSlash, firstSlash < at {
            let colon = bytes[start..<firstSlash].firstIndex(of: UInt8(ascii: ":"))
            return colon == nil ? nil : at
        }
        return at
    }

    private static func isSchemeCharacter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    private static func isTokenEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
    }
}
