import Media

/// Checks camera stream addresses before anything connects to them.
///
/// Accepted: `rtsp://` and `rtsps://` (IP cameras), `http://` and `https://` (MJPEG,
/// HLS), `file://` or an absolute path (recorded clips), and `sim://CAMERA/main|sub`
/// (the simulated city). Messages never repeat credentials.
public enum CameraURL {
    public static let networkSchemes = ["rtsp", "rtsps", "http", "https"]
    /// Schemes that FFmpeg does not open: the simulated city, a recorder's relay.
    public static let schemesOpenedElsewhere: Set<String> = ["sim", "vigie"]

    /// nil when `url` is usable, else what is wrong with it.
    public static func problem(with url: String) -> String? {
        let shown = Redaction.redactAddress(url)
        if url.isEmpty { return "the address is empty" }
        if url.contains(where: { $0 == " " || $0 == "\t" }) { return "`\(shown)` contains a blank (encode it as %20)" }
        if url.hasPrefix("/") { return nil }
        guard let separator = url.firstRange(of: "://") else {
            return "`\(shown)` is not an address: expected rtsp://, http(s)://, file://, sim:// or an absolute path"
        }
        let scheme = url[..<separator.lowerBound].lowercased()
        let rest = url[separator.upperBound...]
        switch scheme {
        case "sim":
            if SimulatedAddress.parse(url) == nil { return "`\(shown)` is not sim://CAMERA/main or sim://CAMERA/sub" }
            return nil
        case "vigie":
            // A camera relayed by a recorder (made by a console, not written in site files).
            let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && !parts[0].isEmpty && (parts[1] == "main" || parts[1] == "sub") ? nil : "`\(shown)` is not vigie://CAMERA/main or vigie://CAMERA/sub"
        case "file":
            return rest.hasPrefix("/") ? nil : "`\(shown)`: a file address needs an absolute path (file:///...)"
        case _ where networkSchemes.contains(scheme):
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            let hostPort = authority.split(separator: "@", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            if hostPort.isEmpty { return "`\(shown)` has no host" }
            var host = hostPort
            var port: Substring? = nil
            if hostPort.hasPrefix("[") {
                guard let close = hostPort.firstIndex(of: "]") else { return "`\(shown)`: unclosed [ in an IPv6 host" }
                host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
                let after = hostPort[hostPort.index(after: close)...]
                if after.hasPrefix(":") { port = after.dropFirst() } else if !after.isEmpty { return "`\(shown)`: bad host" }
            } else if let colon = hostPort.lastIndex(of: ":") {
                host = String(hostPort[..<colon])
                port = hostPort[hostPort.index(after: colon)...]
            }
            if host.isEmpty { return "`\(shown)` has no host" }
            if let invalid = host.first(where: { !($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "_") }) {
                return "`\(shown)`: the host contains `\(invalid)`"
            }
            if let port {
                guard let number = Int(port), (1...65535).contains(number) else {
                    return "`\(shown)`: the port must be a number from 1 to 65535"
                }
            }
            return nil
        default:
            return "`\(shown)`: unsupported scheme `\(scheme)`; use rtsp, rtsps, http, https, file or sim"
        }
    }
}

/// A `sim://CAMERA/main|sub` address, split.
public enum SimulatedAddress {
    public static func parse(_ url: String) -> (camera: String, stream: String)? {
        guard url.hasPrefix("sim://") else { return nil }
        let parts = url.dropFirst("sim://".count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1] == "main" || parts[1] == "sub" else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}
