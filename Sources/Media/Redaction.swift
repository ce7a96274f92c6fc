/// Removes credentials from text before it is shown, logged or stored.
///
/// Camera addresses often carry `user:password@`, sometimes `?user=...&password=...`, and
/// FFmpeg's debug lines carry the `Authorization:` header it sends (base64 of
/// user:password). Every place that prints an address, and every line FFmpeg logs, goes
/// through `redactCredentials(in:)` first; a configured address is shown through
/// `redactAddress(_:)`, which takes the whole value as one address (blanks included).
public enum Redaction {
    /// What replaces a secret.
    public static let mask = "***"

    /// Query parameters whose value is a secret (compared without case).
    static let secretParameters: Set<String> = [
        "user", "username", "usr", "login", "password", "pass", "passwd", "pwd", "pw", "token", "auth", "authorization",
        "key", "apikey", "api_key", "secret", "sig", "signature", "access_token", "credentials", "loginuse", "loginpas",
        "userpwd", "usr_pwd", "pass_word",
    ]

    /// Header names whose value is a secret, as FFmpeg logs the requests it sends.
    static let secretHeaders = ["authorization:", "cookie:"]

    /// `text` with every secret masked: the user information of each `scheme://user:pass@host`
    /// (up to the last `@` of the authority, as FFmpeg reads it, so an `@` or a `/` in a
    /// password is covered), secret query parameters, and `Authorization:` or `Cookie:`
    /// header values. Text without any comes back unchanged.
    public static func redactCredentials(in text: String) -> String {
        var bytes = Array(text.utf8)
        guard bytes.count >= 4 else { return text }
        var changed = maskHeaders(&bytes)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while let separator = firstSchemeSeparator(in: bytes, from: index) {
            let authorityStart = separator + 3
            output.append(contentsOf: bytes[index..<authorityStart])
            // The address runs to the first blank, quote or angle bracket.
            var tokenEnd = authorityStart
            while tokenEnd < bytes.count, !isTokenEnd(bytes[tokenEnd]) { tokenEnd += 1 }
            let redacted = redactAddressBytes(bytes[authorityStart..<tokenEnd])
            if redacted.elementsEqual(bytes[authorityStart..<tokenEnd]) == false { changed = true }
            output.append(contentsOf: redacted)
            index = tokenEnd
        }
        guard changed else { return text }
        output.append(contentsOf: bytes[index...])
        return String(decoding: output, as: UTF8.self)
    }

    /// One configured address, the whole value taken as the address: what a site file
    /// holds may contain blanks (a mistake to report) and the secret after them must not show.
    public static func redactAddress(_ address: String) -> String {
        let bytes = Array(address.utf8)
        guard let separator = firstSchemeSeparator(in: bytes, from: 0) else { return redactCredentials(in: address) }
        let authorityStart = separator + 3
        let redacted = Array(bytes[..<authorityStart]) + redactAddressBytes(bytes[authorityStart...])
        return String(decoding: redacted, as: UTF8.self)
    }

    /// True when `url` carries a user name, a password or a secret parameter.
    public static func hasCredentials(_ url: String) -> Bool {
        redactAddress(url) != url
    }

    /// The part of an address after `scheme://`, its secrets masked.
    private static func redactAddressBytes(_ part: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(part.count)
        let start = part.startIndex, end = part.endIndex
        var rest = start
        if let at = userInfoEnd(in: part) {
            output.append(contentsOf: mask.utf8)
            rest = at  // keep the '@'
        }
        // The query starts at the first '?' or '#' after the user information.
        let query = part[rest...].firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? end
        output.append(contentsOf: part[rest..<query])
        if query < end {
            output.append(contentsOf: maskQuery(part[query..<end]))
        }
        return output
    }

    /// The '@' that ends a user-information part, if the address has one: the last '@' of
    /// the address when one comes before the first '/' (a password may hold '@', '?' or '#'
    /// that were not percent-encoded: camera firmware accepts them), or when a ':' comes
    /// before the authority's end (a '/' in the password). Masking too much (a port, then an
    /// '@' in the path or query) is the safe side.
    private static func userInfoEnd(in part: ArraySlice<UInt8>) -> Int? {
        guard let lastAt = part.lastIndex(of: UInt8(ascii: "@")), let firstAt = part.firstIndex(of: UInt8(ascii: "@")) else { return nil }
        let firstSlash = part.firstIndex(of: UInt8(ascii: "/")) ?? part.endIndex
        if firstAt < firstSlash { return lastAt }
        let authorityEnd = part.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? part.endIndex
        return part[part.startIndex..<authorityEnd].contains(UInt8(ascii: ":")) ? lastAt : nil
    }

    /// A line cut short (FFmpeg's lines are cut at 1 KB) may end inside an address before its
    /// '@': everything after the last `://` is masked.
    public static func redactCutLine(_ text: String) -> String {
        let bytes = Array(redactCredentials(in: text).utf8)
        var separator: Int? = nil
        var index = 0
        while let found = firstSchemeSeparator(in: bytes, from: index) {
            separator = found
            index = found + 3
        }
        guard let separator else { return String(decoding: bytes, as: UTF8.self) }
        let tail = bytes[(separator + 3)...]
        if tail.contains(where: isTokenEnd) { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: bytes[..<(separator + 3)], as: UTF8.self) + mask + " (cut)"
    }

    /// `?a=1&password=x#f` with the values of secret parameters masked.
    private static func maskQuery(_ query: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(query.count)
        var index = query.startIndex
        while index < query.endIndex {
            let byte = query[index]
            output.append(byte)
            index += 1
            guard byte == UInt8(ascii: "?") || byte == UInt8(ascii: "&") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "#")
            else { continue }
            // A parameter: its name up to '=', its value up to the next separator.
            var nameEnd = index
            while nameEnd < query.endIndex, !isParameterEnd(query[nameEnd]), query[nameEnd] != UInt8(ascii: "=") { nameEnd += 1 }
            guard nameEnd < query.endIndex, query[nameEnd] == UInt8(ascii: "=") else { continue }
            let name = String(decoding: query[index..<nameEnd], as: UTF8.self).lowercased()
            var valueEnd = nameEnd + 1
            while valueEnd < query.endIndex, !isParameterEnd(query[valueEnd]) { valueEnd += 1 }
            output.append(contentsOf: query[index...nameEnd])
            if secretParameters.contains(name) && valueEnd > nameEnd + 1 {
                output.append(contentsOf: mask.utf8)
            } else {
                output.append(contentsOf: query[(nameEnd + 1)..<valueEnd])
            }
            index = valueEnd
        }
        return output
    }

    /// Masks the value of secret headers, to the end of their line, wherever they appear.
    private static func maskHeaders(_ bytes: inout [UInt8]) -> Bool {
        var changed = false
        for header in secretHeaders {
            let pattern = Array(header.utf8)
            var index = 0
            while index + pattern.count <= bytes.count {
                guard matchesIgnoringCase(bytes, at: index, pattern) else {
                    index += 1
                    continue
                }
                var valueStart = index + pattern.count
                while valueStart < bytes.count, bytes[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
                var lineEnd = valueStart
                while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n"), bytes[lineEnd] != UInt8(ascii: "\r") { lineEnd += 1 }
                if lineEnd > valueStart && !bytes[valueStart..<lineEnd].elementsEqual(mask.utf8) {
                    bytes.replaceSubrange(valueStart..<lineEnd, with: Array(mask.utf8))
                    changed = true
                }
                index = valueStart + mask.utf8.count
            }
        }
        return changed
    }

    private static func matchesIgnoringCase(_ bytes: [UInt8], at index: Int, _ pattern: [UInt8]) -> Bool {
        for (offset, expected) in pattern.enumerated() {
            var byte = bytes[index + offset]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 32 }
            if byte != expected { return false }
        }
        return true
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

    private static func isSchemeCharacter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    private static func isTokenEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "`")
    }

    private static func isParameterEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "#")
    }
}
